// Fault injection for the local Firehose endpoint: the fault settings, their validation (CLI
// flags and POST /_local/faults share it), the decision of which fault a call gets and a
// seedable PRNG so a run with a fixed seed fails the same calls and records every time. Pure:
// randomness comes from the generator passed in.
//
// When several whole-call faults fire for one call, the first in this order wins:
//   1. expiredToken  400 ExpiredTokenException: authentication precedes anything the service
//                    does with the body.
//   2. maxCallBytes  400 InvalidArgumentException: request validation, like the API limits.
//   3. notFound      400 ResourceNotFoundException.
//   4. stall         held for stallMs, then 500 InternalFailure.
//   5. throttle      503 ServiceUnavailableException.
//   6. error500      500 InternalFailure.
//   7. lateAnswer    handled as usual (records written), then the answer held for lateAnswerMs.
// Faults 1-6 write nothing. Per-record failures (failRecords) apply to calls that are handled:
// no whole-call fault, or a late answer. latencyMs is added to every answer.
//
// Draws per call: stall, throttle and error500 always, in that order; then notFound,
// expiredToken and lateAnswer, each only when set above 0; then one per record of a handled
// call. maxCallBytes draws nothing. So a seeded run that leaves the newer faults at 0 replays
// exactly the sequence it had before they existed.

import { FIREHOSE_MAX_REQUEST_DATA_BYTES } from './protocol';

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
  // Share of calls, 0..1, handled as usual (records written and counted) and then answered only
  // after lateAnswerMs, so a client with a shorter timeout gives up on a call that landed.
  lateAnswer: number;
  lateAnswerMs: number;
  // Share of calls, 0..1, answered HTTP 400 ExpiredTokenException, as when the session token
  // of temporary credentials has run out. Nothing is written.
  expiredToken: number;
  // Cap on the decoded Data of one call, summed over its records, in bytes; 0 = off. A call
  // above it is refused whole with HTTP 400 InvalidArgumentException, nothing written.
  maxCallBytes: number;
}

// A stalled call is held this long by default: longer than any sane client timeout, so it
// reads as a hang, yet it ends on its own.
export const DEFAULT_STALL_MS = 30_000;

// A late answer is held as long as a stall by default, for the same reason: it must outlast
// the client's timeout.
export const DEFAULT_LATE_ANSWER_MS = 30_000;

export const NO_FAULTS: Readonly<Faults> = {
  failRecords: 0,
  throttle: 0,
  error500: 0,
  latencyMs: 0,
  stall: 0,
  stallMs: DEFAULT_STALL_MS,
  notFound: 0,
  lateAnswer: 0,
  lateAnswerMs: DEFAULT_LATE_ANSWER_MS,
  expiredToken: 0,
  maxCallBytes: 0,
};

const FRACTION_KEYS = [
  'failRecords',
  'throttle',
  'error500',
  'stall',
  'notFound',
  'lateAnswer',
  'expiredToken',
] as const;
const DURATION_KEYS = ['latencyMs', 'stallMs', 'lateAnswerMs'] as const;

// Bound on any configured delay (one hour): catches a seconds/milliseconds mix-up.
export const MAX_FAULT_DELAY_MS = 3_600_000;

// Bound on maxCallBytes: the API limit itself. A larger cap could never fire, because the
// endpoint refuses a call above FIREHOSE_MAX_REQUEST_DATA_BYTES before any fault is decided.
export const MAX_CALL_BYTES_CAP = FIREHOSE_MAX_REQUEST_DATA_BYTES;

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

function isByteCap(value: unknown): value is number {
  return (
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= 0 &&
    value <= MAX_CALL_BYTES_CAP
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
    } else if (key === 'maxCallBytes') {
      if (!isByteCap(value)) {
        return { ok: false, error: `${key} must be an integer from 0 to ${MAX_CALL_BYTES_CAP}` };
      }
      patch.maxCallBytes = value;
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
    lateAnswer: patch.lateAnswer ?? current.lateAnswer,
    lateAnswerMs: patch.lateAnswerMs ?? current.lateAnswerMs,
    expiredToken: patch.expiredToken ?? current.expiredToken,
    maxCallBytes: patch.maxCallBytes ?? current.maxCallBytes,
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
  | { kind: 'expiredToken' }
  | { kind: 'tooLarge'; bytes: number; limit: number }
  | { kind: 'notFound' }
  | { kind: 'stall'; ms: number }
  | { kind: 'throttle' }
  | { kind: 'error500' }
  | { kind: 'late'; ms: number };

// What the fault decision needs to know about the call itself.
export interface CallShape {
  // Decoded Data of all records, summed (the basis of maxCallBytes).
  dataBytes: number;
}

/**
 * Decides the whole-call fault, in the precedence and with the draws the file header lists.
 * Every draw is taken before any decision, so how many numbers a call uses depends only on
 * which faults are set, never on which one wins. A fraction of 1 always fires because the
 * generator never returns 1.
 */
export function decideCallFault(
  faults: Readonly<Faults>,
  random: Random,
  call: CallShape,
): CallFault {
  const stall = random() < faults.stall;
  const throttle = random() < faults.throttle;
  const error500 = random() < faults.error500;
  // Drawn only when set, so seeded sequences without them stay as they were.
  const notFound = faults.notFound > 0 && random() < faults.notFound;
  const expiredToken = faults.expiredToken > 0 && random() < faults.expiredToken;
  const late = faults.lateAnswer > 0 && random() < faults.lateAnswer;
  if (expiredToken) return { kind: 'expiredToken' };
  if (faults.maxCallBytes > 0 && call.dataBytes > faults.maxCallBytes) {
    return { kind: 'tooLarge', bytes: call.dataBytes, limit: faults.maxCallBytes };
  }
  if (notFound) return { kind: 'notFound' };
  if (stall) return { kind: 'stall', ms: faults.stallMs };
  if (throttle) return { kind: 'throttle' };
  if (error500) return { kind: 'error500' };
  if (late) return { kind: 'late', ms: faults.lateAnswerMs };
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
