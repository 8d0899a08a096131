// Fault injection for the local Segment-compatible endpoint: the fault settings, their
// validation (CLI flags and POST /_local/faults share it) and which fault a call gets. Pure:
// randomness comes from the generator passed in (mulberry32 of the local Firehose, seeded).
//
// When several faults fire for one call, the first in this order wins:
//   1. down        the connection is dropped without an answer (a network error to the client)
//   2. stall       held for stallMs, then 500
//   3. throttle    429 with `Retry-After: retryAfterSeconds`
//   4. error500    500
//   5. badRequest  400, as Segment answers a body it cannot take
// None of them writes anything. latencyMs is added to every answer. Every share is drawn on
// every call, in that order, so a seeded run fails the same calls every time.

import type { Random, Result } from '../local-firehose/faults';

export interface Faults {
  // Share of calls, 0..1, whose connection is dropped unanswered.
  down: number;
  // Share of calls, 0..1, held for stallMs and then answered 500.
  stall: number;
  stallMs: number;
  // Share of calls, 0..1, answered 429 with Retry-After.
  throttle: number;
  // Seconds sent in the Retry-After of a 429; 0 sends no Retry-After.
  retryAfterSeconds: number;
  // Share of calls, 0..1, answered 500.
  error500: number;
  // Share of calls, 0..1, answered 400.
  badRequest: number;
  // Delay added before every answer, ms.
  latencyMs: number;
}

// A stalled call is held longer than any sane client timeout, yet ends on its own.
export const DEFAULT_STALL_MS = 30_000;

export const NO_FAULTS: Readonly<Faults> = {
  down: 0,
  stall: 0,
  stallMs: DEFAULT_STALL_MS,
  throttle: 0,
  retryAfterSeconds: 1,
  error500: 0,
  badRequest: 0,
  latencyMs: 0,
};

const FRACTIONS = ['down', 'stall', 'throttle', 'error500', 'badRequest'] as const;
// Ours: bounds that catch a seconds/milliseconds mix-up: an hour of delay, a day of Retry-After.
const INTEGERS = { stallMs: 3_600_000, latencyMs: 3_600_000, retryAfterSeconds: 86_400 } as const;

export interface FaultPatch extends Partial<Faults> {
  seed?: number;
}

/** Validates a JSON fault patch (the body of POST /_local/faults). Unknown keys are errors. */
export function parseFaultPatch(input: unknown): Result<FaultPatch, string> {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return { ok: false, error: 'expected a JSON object of fault fields' };
  const patch: FaultPatch = {};
  for (const [key, value] of Object.entries(input)) {
    if ((FRACTIONS as readonly string[]).includes(key)) {
      if (typeof value !== 'number' || !(value >= 0 && value <= 1))
        return { ok: false, error: `${key} must be a number from 0 to 1` };
      patch[key as (typeof FRACTIONS)[number]] = value;
    } else if (Object.hasOwn(INTEGERS, key)) {
      const max = INTEGERS[key as keyof typeof INTEGERS];
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max)
        return { ok: false, error: `${key} must be an integer from 0 to ${max}` };
      patch[key as keyof typeof INTEGERS] = value;
    } else if (key === 'seed') {
      if (typeof value !== 'number' || !Number.isInteger(value))
        return { ok: false, error: 'seed must be an integer' };
      patch.seed = value;
    } else {
      return { ok: false, error: `unknown fault field ${JSON.stringify(key)}` };
    }
  }
  return { ok: true, value: patch };
}

export function applyFaultPatch(current: Readonly<Faults>, patch: Partial<Faults>): Faults {
  const next = { ...current };
  for (const key of Object.keys(NO_FAULTS) as Array<keyof Faults>) {
    const value = patch[key];
    if (value !== undefined) next[key] = value;
  }
  return next;
}

export type CallFault = 'none' | 'down' | 'stall' | 'throttle' | 'error500' | 'badRequest';

/** The fault of one call, in the order the header lists; every share drawn every time. */
export function decideFault(faults: Readonly<Faults>, random: Random): CallFault {
  const fired = FRACTIONS.map((key) => random() < faults[key]);
  const first = FRACTIONS.findIndex((_key, i) => fired[i] === true);
  return first === -1 ? 'none' : (FRACTIONS[first] ?? 'none');
}
