// The bounded pool the consumers send their calls through.
import { describe, expect, it } from 'vitest';
import { inPool } from '../src/pool';

describe('inPool', () => {
  it("runs at most `limit` tasks at once and answers in the items' order", async () => {
    let running = 0;
    let most = 0;
    const results = await inPool([5, 1, 4, 2, 3, 0, 6], 3, async (ms) => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, ms));
      running -= 1;
      return ms * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30, 0, 60]);
    expect(most).toBe(3);
  });

  it('answers an empty list with an empty list', async () => {
    expect(await inPool([], 4, async () => 1)).toEqual([]);
  });
});
