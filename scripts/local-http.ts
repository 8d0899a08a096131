// What the local endpoints (scripts/local-firehose, scripts/local-segment) share about HTTP:
// reading a body within a cap, holding a reply until a signal, and telling loopback clients
// (the only ones their admin endpoints answer) from others.

import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || /^(::ffff:)?127\./.test(address);
}

/** Reads the whole body; past `limit` it keeps draining but stops storing. */
export async function readBody(
  req: IncomingMessage,
  limit: number,
): Promise<{ ok: true; body: Buffer } | { ok: false; bytes: number }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    bytes += buf.length;
    if (bytes <= limit) chunks.push(buf);
  }
  return bytes > limit ? { ok: false, bytes } : { ok: true, body: Buffer.concat(chunks) };
}

/** Waits `ms`, or less if `signal` aborts; never throws. */
export async function wait(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return;
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    // Aborted: the server is closing or the client left; the reply goes nowhere anyway.
  }
}
