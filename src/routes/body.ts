// Reading a request body within a byte limit: Content-Type and Content-Encoding checks, a
// Content-Length precheck before anything is buffered, capped streaming for chunked bodies,
// capped gzip inflation (a small gzip bomb is refused, not inflated), strict UTF-8 and JSON.

import { ingestError, type IngestError } from '../segment/errors';
import { err, ok, type Result } from '../segment/types';

export interface ReadBody {
  text: string;
  /** Decoded (inflated) size in bytes. */
  bytes: number;
  /** For a gzip body, its size as received, before inflation. */
  compressedBytes?: number;
}

// analytics.js and sendBeacon send text/plain; curl -d sends form-urlencoded; SDKs send JSON.
const ACCEPTED_MEDIA_TYPES = new Set([
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded',
]);

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function mediaTypeProblem(contentType: string | null): IngestError | undefined {
  if (contentType === null || contentType.trim() === '') return undefined;
  const media = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (ACCEPTED_MEDIA_TYPES.has(media) || media.endsWith('+json')) return undefined;
  return ingestError(
    'unsupported_media_type',
    `Content-Type ${media} is not accepted; send application/json or text/plain`,
  );
}

type Encoding = 'identity' | 'gzip';

function encodingOf(header: string | null): Result<Encoding, IngestError> {
  const value = (header ?? '').trim().toLowerCase();
  if (value === '' || value === 'identity') return ok('identity');
  if (value === 'gzip' || value === 'x-gzip') return ok('gzip');
  return err(
    ingestError(
      'unsupported_encoding',
      `Content-Encoding ${value} is not accepted; send gzip or none`,
    ),
  );
}

function tooLarge(maxBytes: number): IngestError {
  return ingestError('payload_too_large', `the body exceeds ${maxBytes} bytes`);
}

// Ours: a client that has not delivered its whole body (at most 500 KiB) after 10 s is a slow
// or stalled sender; it gets a 408 instead of holding the request open.
export const BODY_READ_TIMEOUT_MS = 10_000;

const TIMED_OUT = Symbol('timed out');

// Ours: how much of an over-limit raw body is read and dropped before answering 413, so the
// connection stays usable; past this the sender is hostile and the stream is cancelled.
export const DRAIN_MAX_BYTES = 1024 * 1024;

/**
 * Reads at most `maxBytes` from a stream within BODY_READ_TIMEOUT_MS; cancels it and reports
 * too large beyond that, or a timeout when the sender stalls.
 */
async function readCapped(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
  onError: IngestError,
  drain: boolean,
): Promise<Result<Uint8Array, IngestError>> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), BODY_READ_TIMEOUT_MS);
  });
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), deadline]);
      if (next === TIMED_OUT) {
        await reader.cancel().catch(() => undefined);
        return err(timedOut());
      }
      const { done, value } = next;
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        if (drain) {
          // Read (and drop) the rest of a raw body before answering, up to a bound: an answer
          // given mid-upload leaves the unread bytes on a kept-alive connection, where a proxy
          // (wrangler dev's, seen here) mistakes them for the next request.
          let drained = 0;
          for (;;) {
            const rest = await Promise.race([reader.read(), deadline]);
            if (rest === TIMED_OUT || rest.done) break;
            drained += rest.value.byteLength;
            if (drained > DRAIN_MAX_BYTES) break;
          }
        }
        await reader.cancel().catch(() => undefined);
        return err(tooLarge(maxBytes));
      }
      chunks.push(value);
    }
  } catch {
    await reader.cancel().catch(() => undefined);
    return err(onError);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
  if (chunks.length === 1 && chunks[0] !== undefined) return ok(chunks[0]);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return ok(out);
}

/** A body with a declared length, within BODY_READ_TIMEOUT_MS. */
async function readDeclared(
  request: Request,
  maxBytes: number,
): Promise<Result<Uint8Array, IngestError>> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), BODY_READ_TIMEOUT_MS);
  });
  try {
    const body = await Promise.race([request.arrayBuffer(), deadline]);
    if (body === TIMED_OUT) return err(timedOut());
    return body.byteLength > maxBytes ? err(tooLarge(maxBytes)) : ok(new Uint8Array(body));
  } catch {
    return err(ingestError('invalid_body', 'the body could not be read'));
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

function timedOut(): IngestError {
  return ingestError(
    'request_timeout',
    `the body did not arrive within ${BODY_READ_TIMEOUT_MS / 1000} s`,
  );
}

export function decodeUtf8(bytes: Uint8Array, what = 'the body'): Result<string, IngestError> {
  try {
    return ok(utf8.decode(bytes));
  } catch {
    return err(ingestError('invalid_encoding', `${what} is not valid UTF-8`));
  }
}

/** The request body as text, within `maxBytes` after inflation. */
export async function readBody(
  request: Request,
  maxBytes: number,
): Promise<Result<ReadBody, IngestError>> {
  const mediaProblem = mediaTypeProblem(request.headers.get('content-type'));
  if (mediaProblem) return err(mediaProblem);
  const encoding = encodingOf(request.headers.get('content-encoding'));
  if (!encoding.ok) return encoding;

  // Decided before buffering: a compressed body longer than the limit inflates to more than
  // the limit too (gzip adds bytes only to incompressible input, by a few bytes per 16 KiB).
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) return err(tooLarge(maxBytes));
  if (request.body === null) return err(ingestError('invalid_body', 'a request body is required'));

  // The body as received, within the limit whatever its encoding: a gzip body larger than the
  // limit is refused too (without a Content-Length, a gzip header's comment or a run of empty
  // members could otherwise stream on while inflating to almost nothing).
  const received =
    declared !== null
      ? // Content-Length is within the limit and the runtime delivers no more than it declares:
        // the native arrayBuffer() is the fast path (the JS reader loop costs ~2× here).
        await readDeclared(request, maxBytes)
      : await readCapped(
          request.body as ReadableStream<Uint8Array>,
          maxBytes,
          ingestError('invalid_body', 'the body could not be read'),
          true,
        );
  if (!received.ok) return received;
  let raw: Result<Uint8Array, IngestError> = received;
  let compressedBytes: number | undefined;
  if (encoding.value === 'gzip') {
    compressedBytes = received.value.byteLength;
    // Inflated from memory (at most maxBytes in), capped at maxBytes out: a bomb stops there.
    raw = await readCapped(
      new Blob([received.value]).stream().pipeThrough(new DecompressionStream('gzip')),
      maxBytes,
      ingestError('invalid_gzip', 'the body is not valid gzip'),
      // Never drain inflated output: that is the bomb.
      false,
    );
  }
  if (!raw.ok) return raw;
  if (raw.value.byteLength === 0)
    return err(ingestError('invalid_body', 'a request body is required'));
  const text = decodeUtf8(raw.value);
  if (!text.ok) return text;
  const body: ReadBody = { text: text.value, bytes: raw.value.byteLength };
  if (compressedBytes !== undefined) body.compressedBytes = compressedBytes;
  return ok(body);
}

export function parseJson(text: string): Result<unknown, IngestError> {
  try {
    return ok(JSON.parse(text) as unknown);
  } catch (e) {
    // Only the position is reported: V8's message quotes the input, which may hold a write key.
    const position = e instanceof SyntaxError ? /position (\d+)/.exec(e.message)?.[1] : undefined;
    const where = position === undefined ? '' : ` (at character ${position})`;
    return err(ingestError('invalid_json', `the body is not valid JSON${where}`));
  }
}
