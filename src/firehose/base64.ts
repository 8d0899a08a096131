// Base64 of UTF-8 text for Firehose record Data. Pure.
// workerd implements Uint8Array.prototype.toBase64 (TC39 "Uint8Array to/from base64") natively;
// the table-driven fallback serves runtimes without it (Node 20 in scripts).

const encoder = new TextEncoder();
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

type WithToBase64 = Uint8Array & { toBase64?: () => string };

function fallbackBase64(bytes: Uint8Array): string {
  const out: string[] = [];
  let chunk = '';
  const n = bytes.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    chunk +=
      ALPHABET.charAt(v >> 18) +
      ALPHABET.charAt((v >> 12) & 63) +
      ALPHABET.charAt((v >> 6) & 63) +
      ALPHABET.charAt(v & 63);
    if (chunk.length >= 8192) {
      out.push(chunk);
      chunk = '';
    }
  }
  if (i < n) {
    const a = bytes[i] ?? 0;
    const b = i + 1 < n ? (bytes[i + 1] ?? 0) : 0;
    const v = (a << 16) | (b << 8);
    chunk += ALPHABET.charAt(v >> 18) + ALPHABET.charAt((v >> 12) & 63);
    chunk += i + 1 < n ? `${ALPHABET.charAt((v >> 6) & 63)}=` : '==';
  }
  out.push(chunk);
  return out.join('');
}

export function bytesToBase64(bytes: Uint8Array): string {
  const native = (bytes as WithToBase64).toBase64;
  return typeof native === 'function' ? native.call(bytes) : fallbackBase64(bytes);
}

export function utf8ToBase64(text: string): string {
  return bytesToBase64(encoder.encode(text));
}

export { fallbackBase64 };
