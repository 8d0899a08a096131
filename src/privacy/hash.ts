// Keyed hashes with Web Crypto HMAC-SHA256 (the secret PRIVACY_HASH_KEY): the hex a `hash` rule
// writes in place of a value, and the 64-bit prefix a suppressed id is kept as. Adapter over
// crypto.subtle; the key is imported once per isolate per secret.

import { SUPPRESSION_HASH_BYTES } from './limits';

const encoder = new TextEncoder();

let imported: { secret: string; key: Promise<CryptoKey> } | undefined;

/** The HMAC-SHA256 key for `secret`, imported once per isolate (again if the secret changes). */
export function hmacKey(secret: string): Promise<CryptoKey> {
  if (imported?.secret !== secret) {
    const key = crypto.subtle.importKey(
      'raw',
      encoder.encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    imported = { secret, key };
  }
  return imported.key;
}

const HEX = Array.from({ length: 256 }, (_v, i) => i.toString(16).padStart(2, '0'));

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += HEX[b] as string;
  return out;
}

export async function hmac(key: CryptoKey, text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(text)));
}

/**
 * What a `hash` rule writes: the lowercase hex HMAC-SHA256 of the value, its UTF-8 text for a
 * string and its JSON otherwise (issue #25).
 */
export function hashInput(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
}

export async function hmacHex(key: CryptoKey, text: string): Promise<string> {
  return toHex(await hmac(key, text));
}

export type IdKind = 'userId' | 'anonymousId';

/**
 * The text a suppressed id is hashed from: its kind, a colon and the id, so that userId "42" and
 * anonymousId "42" are told apart, and a suppression hash never equals a `hash` rule's output
 * for the same id (which lands in S3).
 */
export function suppressionInput(kind: IdKind, id: string): string {
  return `${kind}:${id}`;
}

/** A 64-bit hash prefix as two unsigned 32-bit words, high first. */
export interface Hash64 {
  hi: number;
  lo: number;
}

export function hash64(bytes: Uint8Array): Hash64 {
  const view = new DataView(bytes.buffer, bytes.byteOffset, SUPPRESSION_HASH_BYTES);
  return { hi: view.getUint32(0), lo: view.getUint32(4) };
}

/** The 16 hex digits of a 64-bit prefix: how the registry stores and orders suppressed ids. */
export function hash64Hex(h: Hash64): string {
  return h.hi.toString(16).padStart(8, '0') + h.lo.toString(16).padStart(8, '0');
}

export function parseHash64Hex(text: string): Hash64 | undefined {
  if (!/^[0-9a-f]{16}$/.test(text)) return undefined;
  return { hi: parseInt(text.slice(0, 8), 16), lo: parseInt(text.slice(8), 16) };
}

export async function suppressionHash(key: CryptoKey, kind: IdKind, id: string): Promise<Hash64> {
  return hash64(await hmac(key, suppressionInput(kind, id)));
}
