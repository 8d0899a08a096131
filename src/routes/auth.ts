// Write-key authentication adapter: builds the key table from WRITE_KEYS once per isolate
// (per distinct value) and checks keys with crypto.subtle. The rules live in
// src/segment/write-keys.ts.

import type { Env } from '../env';
import { ingestError } from '../segment/errors';
import { buildKeyTable, findSource, type Digest, type KeyTable } from '../segment/write-keys';
import { IngestHttpError } from './error-response';

const encoder = new TextEncoder();

const sha256: Digest = async (text) =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));

const timingSafeEqual = (a: Uint8Array, b: Uint8Array): boolean =>
  a.byteLength === b.byteLength && crypto.subtle.timingSafeEqual(a, b);

// Keyed by the WRITE_KEYS value itself, so a redeploy with new keys builds a new table.
const tables = new Map<string, Promise<KeyTable>>();

function keyTable(spec: string): Promise<KeyTable> {
  let table = tables.get(spec);
  if (table === undefined) {
    table = buildKeyTable(spec, sha256);
    tables.set(spec, table);
  }
  return table;
}

// Keys that passed the constant-time check, so a busy source costs one Map lookup instead of a
// SHA-256 per request. Only verified keys are kept (an unknown key is always hashed and
// compared against every entry), bounded so a flood of distinct valid keys cannot grow it.
const VERIFIED_MAX_ENTRIES = 1024;
let verified = new Map<string, string>();
let verifiedFor: string | undefined;

/** The source name for a write key, or undefined when the key is not configured. */
export async function sourceForKey(env: Env, key: string): Promise<string | undefined> {
  const spec = env.WRITE_KEYS ?? '';
  if (verifiedFor !== spec) {
    verified = new Map();
    verifiedFor = spec;
  }
  const known = verified.get(key);
  if (known !== undefined) return known;
  const source = await findSource(await keyTable(spec), key, sha256, timingSafeEqual);
  if (source !== undefined) {
    if (verified.size >= VERIFIED_MAX_ENTRIES) verified.clear();
    verified.set(key, source);
  }
  return source;
}

/** Where a route takes the write key from; the 401 for a missing key names exactly these. */
export type KeyPlaces = 'basic-or-body' | 'basic-or-data' | 'data';

const MISSING_KEY_MESSAGES: Record<KeyPlaces, string> = {
  'basic-or-body': "a write key is required: HTTP Basic (writeKey:) or the body's writeKey",
  'basic-or-data':
    'a write key is required: HTTP Basic (writeKey:) or writeKey inside the data JSON',
  data: 'a write key is required: writeKey inside the data JSON',
};

/** The source name for a presented key; throws 401 when it is missing or unknown. */
export async function authenticate(
  env: Env,
  key: string | undefined,
  places: KeyPlaces,
): Promise<string> {
  if (key === undefined) {
    throw new IngestHttpError(ingestError('missing_write_key', MISSING_KEY_MESSAGES[places]));
  }
  const source = await sourceForKey(env, key);
  if (source === undefined)
    throw new IngestHttpError(ingestError('invalid_write_key', 'the write key is not known'));
  return source;
}

/** Every source WRITE_KEYS names, sorted, each once (for the debugger's selector). */
export async function sourceNames(env: Env): Promise<string[]> {
  const table = await keyTable(env.WRITE_KEYS ?? '');
  return [...new Set(table.entries.map((e) => e.source))].sort();
}
