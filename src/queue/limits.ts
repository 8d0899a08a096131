// Cloudflare Queues limits that shape how events are packed. Pure constants.

// Queues pricing: "each 64 KB of data written, read or deleted is one operation". We fill
// messages to just under 64,000 bytes so a message is one operation whether KB means 1,000 or
// 1,024, leaving room for the header line and the ~100 bytes of per-message metadata below.
export const QUEUE_MESSAGE_TARGET_BYTES = 63_000;

// Queues limits: a message is at most 128 KB, including ~100 bytes of internal metadata.
export const QUEUE_MESSAGE_MAX_BYTES = 128_000 - 100;

// Queues limits: sendBatch takes at most 100 messages ...
export const QUEUE_SEND_BATCH_MAX_MESSAGES = 100;

// ... and at most 256 KB in total; we count 100 bytes of metadata per message and stay under
// 256,000 bytes, the stricter reading of KB.
export const QUEUE_SEND_BATCH_MAX_BYTES = 256_000;
export const QUEUE_MESSAGE_OVERHEAD_BYTES = 100;

// Ours: a version 2 message (src/queue/message.ts) decodes to its version 1 form, which is what
// a requeued copy, a dead letter or a forward copy of it sends again; that form must stay under
// QUEUE_MESSAGE_MAX_BYTES with room for a dead letter's header fields (token, reason, times).
export const QUEUE_MESSAGE_RESTORED_MAX_BYTES = 120_000;
