// Fault settings, their validation and the seeded decisions.

import { describe, expect, it } from 'vitest';
import {
  MAX_CALL_BYTES_CAP,
  NO_FAULTS,
  applyFaultPatch,
  decideCallFault,
  decideRecordFailures,
  mulberry32,
  parseFaultPatch,
} from '../../../scripts/local-firehose/faults';
import type { CallFault, Faults, Random } from '../../../scripts/local-firehose/faults';

// A call of a few bytes: under any maxCallBytes a test sets.
const SMALL = { dataBytes: 100 };

/** A generator that counts how many numbers were drawn from it. */
function counting(random: Random): Random & { draws: number } {
  const wrapped = Object.assign(
    () => {
      wrapped.draws += 1;
      return random();
    },
    { draws: 0 },
  );
  return wrapped;
}

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
      expect(decideCallFault(NO_FAULTS, random, SMALL)).toEqual({ kind: 'none' });
    const all = { ...NO_FAULTS, throttle: 1 };
    for (let i = 0; i < 100; i++)
      expect(decideCallFault(all, random, SMALL)).toEqual({ kind: 'throttle' });
  });

  it('prefers stall over throttle over error500', () => {
    const random = mulberry32(7);
    const faults = { ...NO_FAULTS, stall: 1, throttle: 1, error500: 1, stallMs: 5 };
    expect(decideCallFault(faults, random, SMALL)).toEqual({ kind: 'stall', ms: 5 });
    expect(decideCallFault({ ...faults, stall: 0 }, random, SMALL)).toEqual({ kind: 'throttle' });
    expect(decideCallFault({ ...faults, stall: 0, throttle: 0 }, random, SMALL)).toEqual({
      kind: 'error500',
    });
  });

  // Every whole-call fault on, over a call above the cap; each row switches off the winner of
  // the row before, so the table walks the whole precedence of the file header.
  const everything: Faults = {
    ...NO_FAULTS,
    expiredToken: 1,
    maxCallBytes: 1_000,
    notFound: 1,
    stall: 1,
    stallMs: 5,
    throttle: 1,
    error500: 1,
    lateAnswer: 1,
    lateAnswerMs: 7,
  };
  it.each<[string, Partial<Faults>, number, CallFault]>([
    ['expiredToken first', {}, 1_001, { kind: 'expiredToken' }],
    [
      'then maxCallBytes',
      { expiredToken: 0 },
      1_001,
      { kind: 'tooLarge', bytes: 1_001, limit: 1_000 },
    ],
    ['then notFound', { expiredToken: 0 }, 1_000, { kind: 'notFound' }],
    ['then stall', { expiredToken: 0, notFound: 0 }, 1_000, { kind: 'stall', ms: 5 }],
    ['then throttle', { expiredToken: 0, notFound: 0, stall: 0 }, 1_000, { kind: 'throttle' }],
    [
      'then error500',
      { expiredToken: 0, notFound: 0, stall: 0, throttle: 0 },
      1_000,
      { kind: 'error500' },
    ],
    [
      'then lateAnswer',
      { expiredToken: 0, notFound: 0, stall: 0, throttle: 0, error500: 0 },
      1_000,
      { kind: 'late', ms: 7 },
    ],
    [
      'none when only maxCallBytes is set and not exceeded',
      { expiredToken: 0, notFound: 0, stall: 0, throttle: 0, error500: 0, lateAnswer: 0 },
      1_000,
      { kind: 'none' },
    ],
  ])('decides by precedence: %s', (_name, off, dataBytes, expected) => {
    const faults = { ...everything, ...off };
    expect(decideCallFault(faults, mulberry32(1), { dataBytes })).toEqual(expected);
  });

  it('refuses a call above maxCallBytes, accepts one at it, and never fires at 0', () => {
    const capped = { ...NO_FAULTS, maxCallBytes: 4_000_000 };
    const random = mulberry32(3);
    expect(decideCallFault(capped, random, { dataBytes: 4_000_001 })).toEqual({
      kind: 'tooLarge',
      bytes: 4_000_001,
      limit: 4_000_000,
    });
    expect(decideCallFault(capped, random, { dataBytes: 4_000_000 })).toEqual({ kind: 'none' });
    expect(decideCallFault(NO_FAULTS, random, { dataBytes: MAX_CALL_BYTES_CAP })).toEqual({
      kind: 'none',
    });
  });

  it('answers late and refuses with an expired token at about the configured share', () => {
    const random = mulberry32(11);
    const faults = { ...NO_FAULTS, lateAnswer: 0.2, expiredToken: 0.1 };
    const kinds = Array.from({ length: 5_000 }, () => decideCallFault(faults, random, SMALL).kind);
    const share = (kind: string): number => kinds.filter((k) => k === kind).length / kinds.length;
    expect(share('expiredToken')).toBeGreaterThan(0.08);
    expect(share('expiredToken')).toBeLessThan(0.12);
    // Late only when not also expired: 0.2 × 0.9.
    expect(share('late')).toBeGreaterThan(0.16);
    expect(share('late')).toBeLessThan(0.2);
  });

  it.each<[string, Partial<Faults>, number]>([
    ['no fault', {}, 3],
    ['notFound', { notFound: 0.5 }, 4],
    ['expiredToken', { expiredToken: 0.5 }, 4],
    ['lateAnswer', { lateAnswer: 0.5 }, 4],
    ['maxCallBytes (a check, not a draw)', { maxCallBytes: 10 }, 3],
    ['every fault, even when the first wins', { ...everything }, 6],
  ])('draws a fixed count per call with %s set', (_name, set, draws) => {
    const random = counting(mulberry32(5));
    decideCallFault({ ...NO_FAULTS, ...set }, random, { dataBytes: 20 });
    expect(random.draws).toBe(draws);
  });

  // A generator that returns the given numbers in turn: each row fires exactly one draw.
  const scripted = (...draws: number[]): Random => {
    let i = 0;
    return () => draws[i++] ?? 0.99;
  };
  it.each<[string, number[], CallFault['kind']]>([
    ['notFound 4th', [0.9, 0.9, 0.9, 0.1, 0.9, 0.9], 'notFound'],
    ['expiredToken 5th', [0.9, 0.9, 0.9, 0.9, 0.1, 0.9], 'expiredToken'],
    ['lateAnswer 6th', [0.9, 0.9, 0.9, 0.9, 0.9, 0.1], 'late'],
  ])('draws %s, after stall, throttle and error500', (_name, draws, kind) => {
    const half = { ...NO_FAULTS, notFound: 0.5, expiredToken: 0.5, lateAnswer: 0.5 };
    expect(decideCallFault(half, scripted(...draws), SMALL).kind).toBe(kind);
  });

  // Recorded from the decisions before lateAnswer, expiredToken and maxCallBytes existed
  // (seed 2024; 24 calls of 4 records; x = a failed record, . = a written one).
  const SEQUENCE_BEFORE_NEW_FAULTS = (
    '...x .x.. error500 x... error500 x... .... throttle ...x x... x.x. .x.x ' +
    'notFound .xx. throttle ..xx .x.. ...x stall .xx. x... notFound .x.x ....'
  ).split(' ');
  it('replays the seeded sequence of before the new faults when they are 0', () => {
    const faults: Faults = {
      ...NO_FAULTS,
      stall: 0.1,
      throttle: 0.15,
      error500: 0.15,
      notFound: 0.1,
      failRecords: 0.3,
      lateAnswer: 0,
      expiredToken: 0,
      // Set but never exceeded: it draws nothing, so it must not shift the sequence either.
      maxCallBytes: 4_000_000,
    };
    const random = mulberry32(2024);
    const seen = SEQUENCE_BEFORE_NEW_FAULTS.map(() => {
      const fault = decideCallFault(faults, random, SMALL);
      if (fault.kind !== 'none') return fault.kind;
      return decideRecordFailures(faults, 4, random)
        .map((fails) => (fails ? 'x' : '.'))
        .join('');
    });
    expect(seen).toEqual(SEQUENCE_BEFORE_NEW_FAULTS);
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

  it('accepts lateAnswer, lateAnswerMs, expiredToken and maxCallBytes at their bounds', () => {
    const low = { lateAnswer: 0, lateAnswerMs: 0, expiredToken: 0, maxCallBytes: 0 };
    const high = {
      lateAnswer: 1,
      lateAnswerMs: 3_600_000,
      expiredToken: 1,
      maxCallBytes: 4_194_304,
    };
    expect(parseFaultPatch(low)).toEqual({ ok: true, value: low });
    expect(parseFaultPatch(high)).toEqual({ ok: true, value: high });
  });

  it.each([
    ['a non-object', [], /JSON object/],
    ['a fraction above 1', { throttle: 1.5 }, /throttle must be a number from 0 to 1/],
    ['a negative fraction', { error500: -0.1 }, /error500/],
    ['a fractional delay', { latencyMs: 1.5 }, /latencyMs must be an integer/],
    ['a huge delay', { stallMs: 10_000_000 }, /stallMs/],
    ['a string seed', { seed: '1' }, /seed/],
    ['an unknown field', { failRecord: 1 }, /unknown fault field "failRecord"/],
    ['lateAnswer above 1', { lateAnswer: 1.01 }, /lateAnswer must be a number from 0 to 1/],
    ['a string lateAnswer', { lateAnswer: '0.5' }, /lateAnswer must be a number from 0 to 1/],
    ['a negative expiredToken', { expiredToken: -0.5 }, /expiredToken must be a number/],
    ['expiredToken true', { expiredToken: true }, /expiredToken must be a number/],
    ['a fractional lateAnswerMs', { lateAnswerMs: 2.5 }, /lateAnswerMs must be an integer/],
    ['lateAnswerMs over an hour', { lateAnswerMs: 3_600_001 }, /lateAnswerMs must be an integer/],
    ['a negative maxCallBytes', { maxCallBytes: -1 }, /maxCallBytes must be an integer from 0/],
    ['a fractional maxCallBytes', { maxCallBytes: 1.5 }, /maxCallBytes must be an integer/],
    [
      'maxCallBytes above the API limit',
      { maxCallBytes: 4_194_305 },
      /maxCallBytes must be an integer from 0 to 4194304/,
    ],
    ['a string maxCallBytes', { maxCallBytes: '4MB' }, /maxCallBytes must be an integer/],
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

  it('changes the new fields alone and keeps them through later patches', () => {
    const late = applyFaultPatch(NO_FAULTS, { lateAnswer: 1, lateAnswerMs: 50 });
    expect(late).toEqual({ ...NO_FAULTS, lateAnswer: 1, lateAnswerMs: 50 });
    const capped = applyFaultPatch(late, { maxCallBytes: 10, expiredToken: 0.5 });
    expect(capped).toEqual({ ...late, maxCallBytes: 10, expiredToken: 0.5 });
    expect(applyFaultPatch(capped, { throttle: 1 })).toMatchObject({
      lateAnswer: 1,
      lateAnswerMs: 50,
      maxCallBytes: 10,
      expiredToken: 0.5,
    });
  });
});

describe('NO_FAULTS', () => {
  it('has every new fault off and a 30 s late answer ready', () => {
    expect(NO_FAULTS).toMatchObject({
      lateAnswer: 0,
      lateAnswerMs: 30_000,
      expiredToken: 0,
      maxCallBytes: 0,
    });
  });
});
