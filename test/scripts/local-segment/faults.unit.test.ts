import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../scripts/local-firehose/faults';
import {
  NO_FAULTS,
  applyFaultPatch,
  decideFault,
  parseFaultPatch,
} from '../../../scripts/local-segment/faults';

describe('parseFaultPatch', () => {
  it('accepts shares, durations and a seed', () => {
    expect(parseFaultPatch({ down: 1, throttle: 0.5, retryAfterSeconds: 7, seed: 3 })).toEqual({
      ok: true,
      value: { down: 1, throttle: 0.5, retryAfterSeconds: 7, seed: 3 },
    });
  });

  it.each([{ down: 2 }, { stallMs: -1 }, { latencyMs: 1.5 }, { nope: 1 }, [], null])(
    'refuses %j',
    (input) => {
      expect(parseFaultPatch(input).ok).toBe(false);
    },
  );
});

describe('decideFault', () => {
  it('never fires with no faults, and always fires a share of 1', () => {
    const random = mulberry32(1);
    expect(decideFault(NO_FAULTS, random)).toBe('none');
    expect(decideFault(applyFaultPatch(NO_FAULTS, { error500: 1 }), random)).toBe('error500');
  });

  it('lets the first fault in order win: down, stall, throttle, error500, badRequest', () => {
    const all = applyFaultPatch(NO_FAULTS, {
      down: 1,
      stall: 1,
      throttle: 1,
      error500: 1,
      badRequest: 1,
    });
    expect(decideFault(all, mulberry32(1))).toBe('down');
    expect(decideFault({ ...all, down: 0 }, mulberry32(1))).toBe('stall');
    expect(decideFault({ ...all, down: 0, stall: 0 }, mulberry32(1))).toBe('throttle');
  });

  it('fails about the share asked for, the same calls for the same seed', () => {
    const faults = applyFaultPatch(NO_FAULTS, { error500: 0.3 });
    const run = (seed: number) => {
      const random = mulberry32(seed);
      return Array.from({ length: 1000 }, () => decideFault(faults, random));
    };
    const fired = run(42).filter((f) => f === 'error500').length;
    expect(fired).toBeGreaterThan(250);
    expect(fired).toBeLessThan(350);
    expect(run(42)).toEqual(run(42));
  });
});
