// Limits of forwarding to a Segment-compatible /v1/batch endpoint. Pure constants: each says
// where it comes from.

import { BATCH_MAX_EVENTS } from '../segment/limits';

// Segment HTTP Tracking API, "Max request size": "The batch API endpoint accepts a maximum of
// 500KB per request, with a limit of 32KB per event in the batch", answered 400 past them. Our
// ingest reads KB as KiB (the generous reading, as a server); here we are the client, so we take
// the strict one (1,000 bytes): an endpoint reading KiB accepts these sizes too. The body is
// measured whole (envelope included), so no padding is needed (analytics-node keeps 480 KiB
// of events to leave room for an envelope it does not measure).
export const FORWARD_MAX_BODY_BYTES = 500_000;
export const FORWARD_MAX_EVENT_BYTES = 32_000;

// Segment HTTP Tracking API, "Batch": at most 2,500 events in one request (BATCH_MAX_EVENTS).
export const FORWARD_MAX_EVENTS_PER_CALL = BATCH_MAX_EVENTS;

// Workers limits: "6 simultaneous open connections" per invocation; a seventh call would wait
// for a slot with its timeout already running (as FIREHOSE_MAX_CONCURRENT_CALLS).
export const FORWARD_MAX_CONCURRENT_CALLS = 6;

// Ours: a /v1/batch call of up to 500 KB answers within a second or two; past 20 s (as for
// Firehose) it is abandoned and its messages retried. FORWARD_TIMEOUT_SECONDS overrides it.
export const FORWARD_CALL_TIMEOUT_MS = 20_000;

// Ours: characters of an endpoint's refusal kept in a dead letter's reason and in logs.
export const FORWARD_REASON_MAX_CHARS = 200;

// Queues, Message.retry({ delaySeconds }): "the maximum delay is 12 hours" (PLATFORM.md; an
// older page says 24): a longer Retry-After is honoured only up to this.
export const FORWARD_MAX_RETRY_AFTER_SECONDS = 43_200;
