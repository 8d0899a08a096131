// The one error vocabulary of ingest. Pure: a tagged union of reasons with the field they
// concern; `src/routes/error-response.ts` maps each reason to an HTTP status in one switch.

export type IngestReason =
  | 'invalid_json'
  | 'invalid_body'
  | 'invalid_encoding'
  | 'invalid_gzip'
  | 'missing_field'
  | 'invalid_field'
  | 'invalid_timestamp'
  | 'type_mismatch'
  | 'unknown_type'
  | 'event_too_large'
  | 'payload_too_large'
  | 'request_timeout'
  | 'too_many_events'
  | 'missing_data'
  | 'unsupported_media_type'
  | 'unsupported_encoding'
  | 'missing_write_key'
  | 'invalid_write_key'
  | 'invalid_authorization'
  | 'origin_not_allowed'
  | 'rate_limited'
  | 'queue_unavailable'
  | 'not_found'
  | 'method_not_allowed'
  | 'upgrade_required'
  | 'unauthorized'
  | 'forbidden'
  | 'invalid_plan'
  | 'tracking_plan_unavailable'
  | 'invalid_policy'
  | 'privacy_unavailable'
  | 'internal_error';

export interface IngestError {
  reason: IngestReason;
  message: string;
  /** JSON path of the offending field, e.g. `.event` or `.context.ip`. */
  field?: string;
  /** When the client may try again, for refusals that pass (rate limits, queue outages). */
  retryAfterSeconds?: number;
}

export function ingestError(reason: IngestReason, message: string, field?: string): IngestError {
  return field === undefined ? { reason, message } : { reason, message, field };
}
