// Fault injection for the local Firehose endpoint: the fault settings, their validation (CLI
// flags and POST /_local/faults share it) and a seedable PRNG so a run with a fixed seed fails
// the same calls and records every time. Pure: randomness comes from the generator passed in.

export interface Faults {
  // Share of records, 0..1, answered with a per-record ServiceUnavailableException (not written).
  failRecords: number;
  // Share of calls, 0..1, answered HTTP 503 ServiceUnavailableException ("Slow down.").
  throttle: number;
  // Share of calls, 0..1, answered HTTP 500 InternalFailure.
  error500: number;
  // Delay added before every API response, in milliseconds.
  latencyMs: number;
  // Share of calls, 0..1, held for stallMs and then answered HTTP 500 InternalFailure.
  stall: number;
  stallMs: number;
  // Share of calls, 0..1, answered HTTP 400 ResourceNotFoundException: a fault that retrying
  // cannot fix, so the caller must dead-letter rather than retry.
  notFound: number;
}

// A stalled call is held this long by default: longer than any sane client timeout, so it
// reads as a hang, yet it ends on its own.
export const DEFAULT_STALL_MS = 30_000;

export const NO_FAULTS: Readonly<Faults> = {
  failRecords: 0,
  throttle: 0,
  error500: 0,
  latencyMs: 0,
  stall: 0,
  stallMs: DEFAULT_STALL_MS,
  notFound: 0,
};

const FRACTION_KEYS = ['failRecords', 'throttle', 'error500', 'stall', 'notFound'] as const;
const DURATION_KEYS = ['latencyMs', 'stallMs'] as const;

// Bound on any configured delay (one hour): catches a seconds/milliseconds mix-up.
export const MAX_FAULT_DELAY_MS = 3_600_000;

export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export interface FaultPatch extends Partial<Faults> {
  // Reseeds the generator, so a test can replay a sequence from a known point.
  seed?: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFraction(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1;
}

function isDelay(value: unknown): value is number {
  return (
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= 0 &&
    value <= MAX_FAULT_DELAY_MS
  );
}

/** Validates a JSON fault patch (the body of POST /_local/faults). Unknown keys are errors. */
export function parseFaultPatch(input: unknown): Result<FaultPatch, string> {
  if (!isRecord(input)) return { ok: false, error: 'expected a JSON object of fault fields' };
  const patch: FaultPatch = {};
  for (const [key, value] of Object.entries(input)) {
    if ((FRACTION_KEYS as readonly string[]).includes(key)) {
      if (!isFraction(value)) return { ok: false, error: `${key} must be a number from 0 to 1` };
      patch[key as (typeof FRACTION_KEYS)[number]] = value;
    } else if ((DURATION_KEYS as readonly string[]).includes(key)) {
      if (!isDelay(value)) {
        return { ok: false, error: `${key} must be an integer from 0 to ${MAX_FAULT_DELAY_MS}` };
      }
      patch[key as (typeof DURATION_KEYS)[number]] = value;
    } else if (key === 'seed') {
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        return { ok: false, error: 'seed must be an integer' };
      }
      patch.seed = value;
    } else {
      return { ok: false, error: `unknown fault field ${JSON.stringify(key)}` };
    }
  }
  return { ok: true, value: patch };
}

export function applyFaultPatch(current: Readonly<Faults>, patch: Partial<Faults>): Faults {
  return {
    failRecords: patch.failRecords ?? current.failRecords,
    throttle: patch.throttle ?? current.throttle,
    error500: patch.error500 ?? current.error500,
    latencyMs: patch.latencyMs ?? current.latencyMs,
    stall: patch.stall ?? current.stall,
    stallMs: patch.stallMs ?? current.stallMs,
    notFound: patch.notFound ?? current.notFound,
  };
}

export type Random = () => number;

/**
 * mulberry32: a 32-bit seeded generator returning floats in [0, 1). Not cryptographic; enough
 * to spread faults evenly and replay them exactly.
 */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type CallFault =
  | { kind: 'none' }
  | { kind: 'stall'; ms: number }
  | { kind: 'throttle' }
  | { kind: 'error500' }
  | { kind: 'notFound' };

/**
 * Decides the whole-call fault. Always draws three numbers, in a fixed order, so the sequence
 * of draws (and so every later decision) does not depend on which faults are switched on.
 * A fraction of 1 always fires because the generator never returns 1.
 */
export function decideCallFault(faults: Readonly<Faults>, random: Random): CallFault {
  const stall = random() < faults.stall;
  const throttle = random() < faults.throttle;
  const error500 = random() < faults.error500;
  // Drawn only when set, so seeded sequences without it stay as they were.
  if (faults.notFound > 0 && random() < faults.notFound) return { kind: 'notFound' };
  if (stall) return { kind: 'stall', ms: faults.stallMs };
  if (throttle) return { kind: 'throttle' };
  if (error500) return { kind: 'error500' };
  return { kind: 'none' };
}

/** One draw per record, in record order: true means that record fails. */
export function decideRecordFailures(
  faults: Readonly<Faults>,
  count: number,
  random: Random,
): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < count; i++) out.push(random() < faults.failRecords);
  return out;
}
