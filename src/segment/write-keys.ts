// Write keys: parsing WRITE_KEYS, naming sources, checking a presented key. Pure: the SHA-256
// digest and the constant-time comparison are injected (crypto.subtle in the Worker).

import { AUTHORIZATION_MAX_CHARS } from './limits';
import { ingestError, type IngestError } from './errors';
import { err, ok, type Result } from './types';

export type Digest = (text: string) => Promise<Uint8Array>;
export type TimingSafeEqual = (a: Uint8Array, b: Uint8Array) => boolean;

export interface WriteKeyEntry {
  /** SHA-256 of the key: the key itself is not kept once the table is built. */
  digest: Uint8Array;
  source: string;
}

export interface KeyTable {
  entries: WriteKeyEntry[];
}

// Source names default to `src_` + this many hex digits of the key's SHA-256, so the key
// itself never travels with the events (48 bits: collisions are negligible across sources).
export const SOURCE_HASH_HEX_DIGITS = 12;

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// A source name: letters, digits, `.`, `_` and `-`. It never holds `=`, so in `key=source` the
// name is what follows the last `=`, and a key may itself contain `=` (base64 padding).
export const SOURCE_NAME = /^[A-Za-z0-9._-]+$/;

/**
 * `key` or `key=sourceName` items, comma-separated; blanks ignored. An item splits at its last
 * `=` only when what follows is a source name: `abc==` is the key `abc==`, `abc==web` the key
 * `abc=` of source `web`. A key containing `=` followed by name characters (`a=b`) must be given
 * with its source name (`a=b=web`).
 */
export function parseWriteKeySpec(spec: string): Array<{ key: string; source?: string }> {
  const out: Array<{ key: string; source?: string }> = [];
  for (const item of spec.split(',')) {
    const trimmed = item.trim();
    if (trimmed === '') continue;
    const eq = trimmed.lastIndexOf('=');
    const source = eq === -1 ? '' : trimmed.slice(eq + 1).trim();
    if (eq === -1 || !SOURCE_NAME.test(source)) {
      out.push({ key: trimmed });
      continue;
    }
    const key = trimmed.slice(0, eq).trim();
    if (key !== '') out.push({ key, source });
  }
  return out;
}

export async function buildKeyTable(spec: string, digest: Digest): Promise<KeyTable> {
  const entries = await Promise.all(
    parseWriteKeySpec(spec).map(async ({ key, source }) => {
      const d = await digest(key);
      return { digest: d, source: source ?? `src_${hex(d).slice(0, SOURCE_HASH_HEX_DIGITS)}` };
    }),
  );
  return { entries };
}

/**
 * The source for a presented key, or undefined. Every entry is compared, equal-length digests
 * with a constant-time compare, so timing reveals neither which key matched nor how much of it.
 */
export async function findSource(
  table: KeyTable,
  presented: string,
  digest: Digest,
  equal: TimingSafeEqual,
): Promise<string | undefined> {
  const d = await digest(presented);
  let found: string | undefined;
  for (const entry of table.entries) {
    if (equal(entry.digest, d) && found === undefined) found = entry.source;
  }
  return found;
}

/**
 * The write key in an HTTP Basic Authorization header (`base64(writeKey:)`, as analytics-node
 * and analytics.js send it). Absent header → ok(undefined); garbled → invalid_authorization.
 */
export function basicAuthWriteKey(
  header: string | null | undefined,
): Result<string | undefined, IngestError> {
  if (header === null || header === undefined || header === '') return ok(undefined);
  if (header.length > AUTHORIZATION_MAX_CHARS) {
    return err(ingestError('invalid_authorization', 'the Authorization header is too long'));
  }
  const m = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (m === null || m[1] === undefined) {
    return err(
      ingestError(
        'invalid_authorization',
        'Authorization must be HTTP Basic with the write key as user name',
      ),
    );
  }
  let decoded: string;
  try {
    decoded = atob(m[1].replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    return err(
      ingestError('invalid_authorization', 'the Authorization header is not valid base64'),
    );
  }
  const colon = decoded.indexOf(':');
  const user = colon === -1 ? decoded : decoded.slice(0, colon);
  if (user === '')
    return err(ingestError('missing_write_key', 'the Authorization header carries no write key'));
  return ok(user);
}
