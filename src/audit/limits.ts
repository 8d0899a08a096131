// Limits of the audit trail. Pure constants: each says where it comes from.

/** Where entries live in the archive bucket (ARCHIVE). */
export const AUDIT_PREFIX = 'audit/';

// Ours: keys hold this minus the time in ms, so they list newest first; 10^13 − 1 ms is in the
// year 2286, and 13 digits keep every key the same length (R2 orders keys by UTF-8 bytes).
export const AUDIT_KEY_EPOCH_MS = 9_999_999_999_999;

// R2 limits: custom metadata is at most 2,048 bytes per object. An entry is kept there too (so a
// listing is a page of entries): at most 20 values of at most 64 characters, about 1.6 KB.
export const AUDIT_CHANGED_MAX_KEYS = 20;
export const AUDIT_VALUE_MAX_CHARS = 64;

// Ours: GET /admin/audit answers at most this many entries a page (R2 list: at most 1,000 keys
// per call); 100 unless `limit` says otherwise.
export const AUDIT_LIST_MAX = 1000;
export const AUDIT_LIST_DEFAULT = 100;
