// Fault settings, their validation and the seeded decisions.

import { describe, expect, it } from 'vitest';
import {
  NO_FAULTS,
  applyFaultPatch,
  decideCallFault,
  decideRecordFailures,
  mulberry32,
  parseFaultPatch,
} from '../../../scripts/local-firehose/faults';

describe('mulberry32', () => {
  it('replays the same sequence for the same seed and differs for another', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const seqA = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(seqA);
    expect(Array.from({ length: 5 }, c)).not.toEqual(seqA);
  });

  it('stays in [0, 1) with a mean near 0.5', () => {
    const random = mulberry32(1);
    const draws = Array.from({ length: 10_000 }, random);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
  });
});

describe('decideCallFault', () => {
  it('never fires at 0 and always fires at 1', () => {
    const random = mulberry32(7);
    for (let i = 0; i < 100; i++)
      expect(decideCallFault(NO_FAULTS, random)).toEqual({ kind: 'none' });
    const all = { ...NO_FAULTS, throttle: 1 };
    for (let i = 0; i < 100; i++)
      expect(decideCallFault(all, random)).toEqual({ kind: 'throttle' });
  });

  it('prefers stall over throttle over error500', () => {
    const random = mulberry32(7);
    const faults = { ...NO_FAULTS, stall: 1, throttle: 1, error500: 1, stallMs: 5 };
    expect(decideCallFault(faults, random)).toEqual({ kind: 'stall', ms: 5 });
    expect(decideCallFault({ ...faults, stall: 0 }, random)).toEqual({ kind: 'throttle' });
    expect(decideCallFault({ ...faults, stall: 0, throttle: 0 }, random)).toEqual({
      kind: 'error500',
    });
  });
});

describe('decideRecordFailures', () => {
  it('fails about the configured share, reproducibly', () => {
    const faults = { ...NO_FAULTS, failRecords: 0.25 };
    const first = decideRecordFailures(faults, 4000, mulberry32(99));
    const share = first.filter(Boolean).length / first.length;
    expect(share).toBeGreaterThan(0.22);
    expect(share).toBeLessThan(0.28);
    expect(decideRecordFailures(faults, 4000, mulberry32(99))).toEqual(first);
  });
});

describe('parseFaultPatch', () => {
  it('accepts known fields and a seed', () => {
    expect(parseFaultPatch({ failRecords: 0.5, latencyMs: 10, seed: 3 })).toEqual({
      ok: true,
      value: { failRecords: 0.5, latencyMs: 10, seed: 3 },
    });
  });

  it.each([
    ['a non-object', [], /JSON object/],
    ['a fraction above 1', { throttle: 1.5 }, /throttle must be a number from 0 to 1/],
    ['a negative fraction', { error500: -0.1 }, /error500/],
    ['a fractional delay', { latencyMs: 1.5 }, /latencyMs must be an integer/],
    ['a huge delay', { stallMs: 10_000_000 }, /stallMs/],
    ['a string seed', { seed: '1' }, /seed/],
    ['an unknown field', { failRecord: 1 }, /unknown fault field "failRecord"/],
  ])('rejects %s', (_name, input, message) => {
    const result = parseFaultPatch(input);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.error).toMatch(message);
  });
});

describe('applyFaultPatch', () => {
  it('changes only the given fields', () => {
    const next = applyFaultPatch({ ...NO_FAULTS, throttle: 0.5 }, { error500: 1 });
    expect(next).toEqual({ ...NO_FAULTS, throttle: 0.5, error500: 1 });
  });
});
