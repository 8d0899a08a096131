// Amazon Data Firehose limits and protocol constants. Pure.

// Firehose API reference, PutRecordBatch: "Each PutRecordBatch request supports up to 500
// records."
export const FIREHOSE_MAX_RECORDS_PER_CALL = 500;

// Firehose API reference, PutRecordBatch: "Each record in the request can be as large as
// 1,000 KB (before base64 encoding)". Read as 1,000,000 bytes, the stricter reading of KB.
export const FIREHOSE_MAX_RECORD_BYTES = 1_000_000;

// Firehose API reference, PutRecordBatch: "up to a limit of 4 MB for the entire request". Whether
// MB means 10^6 or 2^20 bytes is not said; a call packed to 4 MiB would be refused whole under
// the stricter reading, so record data is capped at 4,000,000 bytes per call. A call refused
// for its size anyway is split and sent again (src/queue/delivery.ts), never dead-lettered.
export const FIREHOSE_MAX_CALL_BYTES = 4_000_000;

// Firehose pricing: ingestion is billed per record rounded up to the next 5 KB.
export const FIREHOSE_BILLING_INCREMENT_BYTES = 5 * 1024;

// Firehose API reference: JSON 1.1 protocol, target prefix Firehose_20150804.
export const FIREHOSE_TARGET_PUT_RECORD_BATCH = 'Firehose_20150804.PutRecordBatch';
export const FIREHOSE_CONTENT_TYPE = 'application/x-amz-json-1.1';

// Firehose API reference, PutRecordBatch "Errors" and RequestResponses[].ErrorCode: these are
// transient ("Back off and retry").
export const FIREHOSE_RETRYABLE_ERRORS: ReadonlySet<string> = new Set([
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServerError',
  'ThrottlingException',
  'RequestTimeout',
  'RequestTimeoutException',
  'LimitExceededException',
]);

// AWS "Common Errors" (every AWS API, Firehose included): credential, signature and permission
// errors. An operator fixes them (rotates a key, renews a session token, fixes the IAM policy),
// so they are retried with backoff while /health is red, never dead-lettered at once.
export const FIREHOSE_AUTH_ERRORS: ReadonlySet<string> = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'ExpiredTokenException',
  'ExpiredToken',
  'IncompleteSignature',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'NotAuthorized',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
]);

// AWS Common Errors: "RequestEntityTooLarge" (HTTP 413); Firehose answers an over-size request
// with InvalidArgumentException naming the size. Either way the call is split and sent again.
export const FIREHOSE_SIZE_ERRORS: ReadonlySet<string> = new Set([
  'RequestEntityTooLargeException',
  'RequestEntityTooLarge',
]);
export const FIREHOSE_SIZE_MESSAGE = /\b(size|length|too large|exceed(s|ed)?)\b/i;
