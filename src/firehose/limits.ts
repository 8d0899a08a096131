// Amazon Data Firehose limits and protocol constants. Pure.

// Firehose API reference, PutRecordBatch: "Each PutRecordBatch request supports up to 500
// records."
export const FIREHOSE_MAX_RECORDS_PER_CALL = 500;

// Firehose API reference, PutRecordBatch: "Each record in the request can be as large as
// 1,000 KB (before base64 encoding)". Read as KiB, the same as the local endpoint enforces.
export const FIREHOSE_MAX_RECORD_BYTES = 1000 * 1024;

// Firehose API reference, PutRecordBatch: "up to a limit of 4 MB for the entire request",
// counted over the records' data before base64 encoding.
export const FIREHOSE_MAX_CALL_BYTES = 4 * 1024 * 1024;

// Firehose pricing: ingestion is billed per record rounded up to the next 5 KB.
export const FIREHOSE_BILLING_INCREMENT_BYTES = 5 * 1024;

// Firehose API reference: JSON 1.1 protocol, target prefix Firehose_20150804.
export const FIREHOSE_TARGET_PUT_RECORD_BATCH = 'Firehose_20150804.PutRecordBatch';
export const FIREHOSE_CONTENT_TYPE = 'application/x-amz-json-1.1';

// Firehose API reference, PutRecordBatch "Errors" and RequestResponses[].ErrorCode: these are
// transient ("Back off and retry"); every other error cannot be fixed by retrying as is.
export const FIREHOSE_RETRYABLE_ERRORS: ReadonlySet<string> = new Set([
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServerError',
  'ThrottlingException',
  'RequestTimeout',
  'RequestTimeoutException',
  'LimitExceededException',
]);
