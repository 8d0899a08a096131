import { describe, expect, it } from 'vitest';
import { paceInterval, SendPacer } from '../../src/debugger/pace';
import {
  DEBUGGER_FLUSH_INTERVAL_MS,
  DEBUGGER_MAX_SEND_INTERVAL_MS,
} from '../../src/debugger/limits';

describe('paceInterval', () => {
  it('keeps the flush interval up to 100 isolates, then grows with them', () => {
    expect(paceInterval(1)).toBe(DEBUGGER_FLUSH_INTERVAL_MS);
    expect(paceInterval(100)).toBe(1000);
    expect(paceInterval(1000)).toBe(10_000);
    expect(paceInterval(10_000)).toBe(100_000);
    expect(paceInterval(1_000_000)).toBe(DEBUGGER_MAX_SEND_INTERVAL_MS);
  });
});

describe('SendPacer', () => {
  it('counts each sender once and tells every one the interval for them all', () => {
    const pacer = new SendPacer();
    for (let i = 0; i < 500; i++) pacer.answer(`isolate-${i}`, 0);
    expect(pacer.senders).toBe(500);
    // 500 senders at 100 calls/s: each calls every 5 s.
    expect(pacer.answer('isolate-0', 10)).toBe(5000);
    expect(pacer.answer('isolate-500', 10)).toBe(5010);
  });

  it('forgets a sender that stopped calling for twice its interval', () => {
    const pacer = new SendPacer();
    pacer.answer('gone', 0);
    pacer.answer('staying', 0);
    pacer.answer('staying', 2000);
    pacer.answer('staying', 4000);
    expect(pacer.senders).toBe(1);
  });
});
