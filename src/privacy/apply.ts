// The one call ingest makes into privacy: the source's policy and suppressed ids (from the
// isolate's cache) applied to one request's enriched events, before the tracking plan, the
// debugger and the queue. Adapter over cache.ts, hash.ts and the pure redact.ts.

import type { Env } from '../env';
import { forwardConfig, forwardedSources } from '../forward/settings';
import type { WaitUntil } from '../plans/cache';
import { ingestError, type IngestError } from '../segment/errors';
import type { QueuedEvent } from '../segment/ingest';
import { QUEUED_EVENT_MAX_BYTES } from '../segment/limits';
import { err, ok, type Result } from '../segment/types';
import type { PrivacyCache } from './cache';
import { keyedHex, suppressionLookup } from './lookup';
import type { Sink } from './policy';
import { redactEvents, type RedactOutcome } from './redact';
import type { SuppressionSet } from './set';

const FIREHOSE_ONLY: readonly Sink[] = ['firehose'];
const BOTH: readonly Sink[] = ['firehose', 'forward'];
const sinksByEnv = new WeakMap<object, { spec: string; forwarded: ReadonlySet<string> }>();

/** The sinks a source's events can reach: Firehose, and the forward copy when it is forwarded. */
export function sourceSinks(env: Env, source: string): readonly Sink[] {
  const spec = `${env.FORWARD_ENDPOINT ?? ''}\n${env.FORWARD_WRITE_KEYS ?? ''}`;
  let cached = sinksByEnv.get(env);
  if (cached?.spec !== spec) {
    cached = { spec, forwarded: forwardedSources(forwardConfig(env)) };
    sinksByEnv.set(env, cached);
  }
  return cached.forwarded.has(source) ? BOTH : FIREHOSE_ONLY;
}

function unavailable(message: string): { ok: false; error: IngestError } {
  return err(ingestError('privacy_unavailable', message));
}

export interface PrivacyOutcome extends RedactOutcome {
  /** Whether the source has a policy or suppressed ids (the debugger leaves raw payloads out). */
  active: boolean;
}

/**
 * What the source's privacy makes of one request's events: the events to pass on (edited,
 * with the sinks they may reach), and those withheld. A source with no policy and no suppressed
 * ids (or privacy unbound) costs Map reads. When the policy or ids cannot be known (a new
 * isolate that cannot read them), or hashing is needed and PRIVACY_HASH_KEY is unset, the
 * request is refused with a 503, so the client retries rather than events going unprotected.
 */
export async function applyPrivacy(
  env: Env,
  cache: PrivacyCache,
  source: string,
  events: readonly QueuedEvent[],
  gpc: boolean,
  waitUntil: WaitUntil,
): Promise<Result<PrivacyOutcome, IngestError>> {
  let privacy;
  try {
    privacy = await cache.forSource(env, source, waitUntil);
  } catch (e) {
    console.error('privacy unavailable', e instanceof Error ? e.message : String(e));
    return unavailable("the source's privacy policy cannot be read; retry later");
  }
  const policy = privacy?.policy;
  const sets: readonly SuppressionSet[] = privacy?.sets ?? [];
  const secret = env.PRIVACY_HASH_KEY;
  const needsKey =
    sets.length > 0 ||
    policy?.fields.some((f) => f.action === 'hash') === true ||
    (gpc && policy?.gpc === 'anonymize');
  if (needsKey && (secret === undefined || secret === '')) {
    console.error('privacy: PRIVACY_HASH_KEY is not set, and this source needs it');
    return unavailable('privacy hashing is not configured (PRIVACY_HASH_KEY); retry later');
  }
  const key = secret ?? '';
  const outcome = await redactEvents(events, {
    policy,
    sinks: sourceSinks(env, source),
    gpc,
    suppressed: sets.length === 0 ? undefined : suppressionLookup(key, sets),
    hash: key === '' ? undefined : keyedHex(key),
  });
  // A hash is longer than most values it replaces: an event must still fit a queue message.
  if (outcome.events.some((e) => e.bytes > QUEUED_EVENT_MAX_BYTES)) {
    return err(
      ingestError(
        'event_too_large',
        `an event with its hashed fields is more than ${QUEUED_EVENT_MAX_BYTES} bytes`,
      ),
    );
  }
  return ok({ ...outcome, active: policy !== undefined || sets.length > 0 });
}
