// Every list price and platform quota the cost and scaling models use, in one place. Pure
// constants: each cites the page it comes from and the day it was read. Prices are the
// marginal list prices past the included allowances (Workers Paid's $5/month, 10 M requests,
// 30 M CPU-ms and 1 M queue operations are ignored: at scale they round to zero per event).

/** The day the pages below were read (stored copies of the public pages). */
export const PRICES_READ_ON = '2026-11-29';

// Cloudflare Workers pricing, Standard usage model: "10 million included per month +$0.30 per
// additional million" requests (https://developers.cloudflare.com/workers/platform/pricing/).
export const WORKERS_USD_PER_MILLION_REQUESTS = 0.3;

// Same page: "30 million CPU milliseconds included per month +$0.02 per additional million CPU
// milliseconds".
export const WORKERS_USD_PER_MILLION_CPU_MS = 0.02;

// Cloudflare Queues pricing (https://developers.cloudflare.com/queues/platform/pricing/):
// "1,000,000 operations/month included + $0.40/million operations" ...
export const QUEUES_USD_PER_MILLION_OPERATIONS = 0.4;

// ... "An operation is counted for each 64 KB of data that is written, read, or deleted",
// "A KB is defined as 1,000 bytes, and each message includes approximately 100 bytes of
// internal metadata", "Each retry incurs a read operation".
export const QUEUES_OPERATION_UNIT_BYTES = 64_000;
export const QUEUES_MESSAGE_METADATA_BYTES = 100;

// Amazon Data Firehose pricing (https://aws.amazon.com/firehose/pricing/), Direct PUT
// ingestion, US East (N. Virginia), first 500 TB/month: $0.029 per GB. The stored copy of the
// page has the rules but not the price table (it is rendered by script); this figure is from
// the page as we know it (read 2026-11-29 from memory of the live page): check it before
// quoting a bill.
export const FIREHOSE_USD_PER_GB = 0.029;

// Same page: each record is billed rounded up to the next 5 KB, 5,120 bytes
// (FIREHOSE_BILLING_INCREMENT_BYTES in src/firehose/limits.ts); its worked example divides KB
// by 1,048,576 KB/GB, so a billed GB is 2^30 bytes.
export const FIREHOSE_BYTES_PER_BILLED_GB = 1024 ** 3;

// Queues limits (https://developers.cloudflare.com/queues/platform/limits/): "Per-queue
// message throughput: 5,000 messages per second"; "Maximum consumer batch size: 100 messages".
export const QUEUE_MAX_MESSAGES_PER_SECOND = 5000;
export const QUEUE_MAX_CONSUMER_BATCH_MESSAGES = 100;

// Amazon Data Firehose quota (https://docs.aws.amazon.com/firehose/latest/dev/limits.html):
// with Direct PUT, "For US East (N. Virginia), US West (Oregon), and Europe (Ireland): 500,000
// records/second, 2,000 requests/second, and 5 MiB/second" per stream (PutRecord and
// PutRecordBatch combined). Other regions default to far less; all three scale on request.
export const FIREHOSE_STREAM_MAX_RECORDS_PER_SECOND = 500_000;
export const FIREHOSE_STREAM_MAX_CALLS_PER_SECOND = 2000;
export const FIREHOSE_STREAM_MAX_BYTES_PER_SECOND = 5 * 1024 * 1024;

// Durable Objects pricing (https://developers.cloudflare.com/durable-objects/platform/pricing/,
// stored copy of cloudflare-docs src/content/partials/durable-objects/durable-objects-pricing.mdx):
// "Requests ... $0.15/million. Includes HTTP requests, RPC sessions, WebSocket messages, and
// alarm invocations"; every RPC method call is its own session, so its own request.
export const DO_USD_PER_MILLION_REQUESTS = 0.15;

// Same page: "Duration ... $12.50/million GB-s", billed "for the 128 MB of memory your Durable
// Object is allocated", and only while it is active or idle but unable to hibernate.
export const DO_USD_PER_MILLION_GB_SECONDS = 12.5;
export const DO_BILLED_GB = 0.128;

// Same page, SQLite storage backend: "Rows written ... $1.00 / million rows", "Rows reads ...
// $0.001 / million rows"; "Each setAlarm() is billed as a single row written"; "Deletes are
// counted as rows written".
export const DO_USD_PER_MILLION_ROWS_WRITTEN = 1.0;
export const DO_USD_PER_MILLION_ROWS_READ = 0.001;

// Workers Analytics Engine pricing (PLATFORM.md, analytics-engine/pricing): "$0.25 per million
// data points written".
export const ANALYTICS_ENGINE_USD_PER_MILLION_POINTS = 0.25;

// R2 pricing (https://developers.cloudflare.com/r2/pricing/, stored copy of cloudflare-docs
// src/content/docs/r2/pricing.mdx): Standard storage "$0.015 / GB-month", "Class A Operations
// $4.50 / million requests" (PutObject, DeleteObjects, ListObjects), "Class B Operations
// $0.36 / million requests" (GetObject, HeadObject).
export const R2_USD_PER_MILLION_CLASS_A = 4.5;
export const R2_USD_PER_MILLION_CLASS_B = 0.36;
export const R2_USD_PER_GB_MONTH = 0.015;

// KV pricing (PLATFORM.md, kv/platform/pricing): "$0.50 per million reads, $5 per million writes".
// Deletes and list requests are priced as writes (the same page's table, as summarised in stored
// copies read 2026-11-30; the cost model bills them at KV_USD_PER_MILLION_WRITES). Every read is
// billed, an edge-cached one or a miss (null) alike.
export const KV_USD_PER_MILLION_READS = 0.5;
export const KV_USD_PER_MILLION_WRITES = 5;

/** Seconds in an average month (365.25 days / 12), for the per-month figures. */
export const SECONDS_PER_MONTH = (365.25 * 24 * 3600) / 12;
