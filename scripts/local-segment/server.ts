// The local Segment-compatible endpoint: a node:http server answering POST /v1/batch the way
// Segment's HTTP Tracking API does, checking the HTTP Basic write key, holding calls to
// Segment's size limits, injecting configured faults ("down", stalls, 429, 500, 400) and
// appending the events it accepts to NDJSON files, one directory per write key. Adapter: I/O
// only; parsing, faults and counters live in the sibling modules. The forwarding tests point
// FORWARD_ENDPOINT at it, as the Firehose tests point FIREHOSE_ENDPOINT at the local Firehose.

import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { isLoopback, readBody, wait } from '../local-http';
import { mulberry32, type Random } from '../local-firehose/faults';
import { FileSink, instanceTag } from '../local-firehose/sink';
import { NO_FAULTS, applyFaultPatch, decideFault, parseFaultPatch, type Faults } from './faults';
import { MAX_BODY_BYTES, basicWriteKey, parseBatch } from './protocol';
import { emptyStats, recordCall, type Outcome, type Stats } from './stats';

export const DEFAULT_HOST = '127.0.0.1';

// Ours: a body past this is not even buffered (it is refused for its size anyway).
const READ_MAX_BYTES = MAX_BODY_BYTES * 4;
const ADMIN_MAX_BODY_BYTES = 64 * 1024;

export interface LocalSegmentOptions {
  dataDir: string;
  host?: string;
  /** 0 (the default) picks a free port; read it back from `port` / `url`. */
  port?: number;
  /** Write keys accepted; unset: any non-empty key. Others are answered 401. */
  writeKeys?: readonly string[];
  faults?: Partial<Faults>;
  seed?: number;
  log?: (line: string) => void;
  now?: () => Date;
}

export interface LocalSegmentStats extends Stats {
  startedAt: string;
  dataDir: string;
  seed: number;
  faults: Faults;
}

export interface LocalSegment {
  /** Base URL; the API is `${url}/v1/batch`. */
  url: string;
  port: number;
  dataDir: string;
  close(): Promise<void>;
  stats(): LocalSegmentStats;
  faults(): Faults;
  setFaults(patch: Partial<Faults>): void;
  /** Events accepted for one write key (this instance's files), one JSON line each. */
  events(writeKey: string): string;
}

/** The directory a write key's events land in: the key with unsafe characters replaced. */
export function keyDirectory(writeKey: string): string {
  return writeKey.replace(/[^A-Za-z0-9._-]/g, '_');
}

function json(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  if (res.headersSent || res.destroyed) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(payload)),
    ...headers,
  });
  res.end(payload);
}

export async function createLocalSegment(options: LocalSegmentOptions): Promise<LocalSegment> {
  const now = options.now ?? ((): Date => new Date());
  const log = options.log ?? ((): void => {});
  const dataDir = resolve(options.dataDir);
  const startedAt = now();
  const accepted = options.writeKeys === undefined ? undefined : new Set(options.writeKeys);
  const sink = new FileSink(
    dataDir,
    instanceTag(startedAt, process.pid, randomBytes(3).toString('hex')),
  );
  let seed = options.seed ?? randomInt(2 ** 31);
  let random: Random = mulberry32(seed);
  let faults: Faults = applyFaultPatch(NO_FAULTS, options.faults ?? {});
  // Faults for one write key only, so tests sharing a server each fail their own key.
  const keyFaults = new Map<string, Faults>();
  const stats = emptyStats();
  const closing = new AbortController();

  async function handleBatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const writeKey = basicWriteKey(req.headers.authorization);
    const known = writeKey !== undefined && (accepted === undefined || accepted.has(writeKey));
    const active = (writeKey === undefined ? undefined : keyFaults.get(writeKey)) ?? faults;
    const fault = known ? decideFault(active, random) : 'none';
    const finish = (
      outcome: Outcome,
      bodyBytes: number,
      eventBytes: number[] = [],
      newFile?: string,
    ): void => {
      recordCall(stats, {
        outcome,
        ...(known ? { writeKey } : {}),
        bodyBytes,
        eventBytes,
        ...(newFile === undefined ? {} : { newFile }),
      });
      log(
        `batch key=${known ? keyDirectory(writeKey) : '-'} events=${eventBytes.length} ` +
          `bytes=${bodyBytes} outcome=${outcome} ${Math.round(performance.now() - started)}ms`,
      );
    };
    if (fault === 'down') {
      finish('down', 0);
      req.socket.destroy();
      return;
    }
    const read = await readBody(req, READ_MAX_BYTES);
    const bodyBytes = read.ok ? read.body.length : read.bytes;
    const clientGone = new AbortController();
    res.once('close', () => clientGone.abort());
    const signal = AbortSignal.any([closing.signal, clientGone.signal]);
    await wait(active.latencyMs, signal);
    if (!known) {
      finish('unauthorized', bodyBytes);
      return json(res, 401, { success: false, message: 'Invalid write key' });
    }
    switch (fault) {
      case 'stall':
        await wait(active.stallMs, signal);
        finish('stalled', bodyBytes);
        return json(res, 500, { success: false, message: 'Internal error' });
      case 'throttle':
        finish('throttled', bodyBytes);
        return json(
          res,
          429,
          { success: false, message: 'Too many requests' },
          active.retryAfterSeconds > 0 ? { 'retry-after': String(active.retryAfterSeconds) } : {},
        );
      case 'error500':
        finish('error_500', bodyBytes);
        return json(res, 500, { success: false, message: 'Internal error' });
      case 'badRequest':
        finish('bad_request', bodyBytes);
        return json(res, 400, { success: false, message: 'Bad request (injected)' });
      case 'none':
        break;
    }
    const parsed = read.ok
      ? parseBatch(read.body)
      : { ok: false as const, error: `body of ${read.bytes} bytes exceeds ${MAX_BODY_BYTES}` };
    if (!parsed.ok) {
      finish('invalid', bodyBytes);
      return json(res, 400, { success: false, message: parsed.error });
    }
    let newFile: string | undefined;
    if (parsed.events.length > 0) {
      // Synchronous append before the answer: what is acknowledged is already in the file.
      const text = parsed.events.map((e) => `${e.json}\n`).join('');
      const written = sink.append(keyDirectory(writeKey), [Buffer.from(text)], now());
      if (written.created) newFile = written.file;
    }
    finish(
      'ok',
      bodyBytes,
      parsed.events.map((e) => e.bytes),
      newFile,
    );
    json(res, 200, { success: true });
  }

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string) {
    const raw = await readBody(req, ADMIN_MAX_BODY_BYTES);
    if (!isLoopback(req.socket.remoteAddress))
      return json(res, 403, { message: 'Admin endpoints answer loopback clients only.' });
    const url = new URL(req.url ?? '/', 'http://local');
    switch (path) {
      case '/_local/health':
        return json(res, 200, { status: 'ok' });
      case '/_local/stats':
        return json(res, 200, snapshot());
      case '/_local/events': {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.end(events(url.searchParams.get('writeKey') ?? ''));
        return;
      }
      case '/_local/faults': {
        if (req.method === 'GET') return json(res, 200, faults);
        let input: unknown;
        try {
          input = JSON.parse(raw.ok ? raw.body.toString('utf8') : '');
        } catch {
          return json(res, 400, { message: 'Body is not valid JSON.' });
        }
        // An optional "writeKey" scopes the patch to that key; the rest are fault fields.
        let key: string | undefined;
        if (typeof input === 'object' && input !== null && 'writeKey' in input) {
          const { writeKey: named, ...rest } = input as Record<string, unknown>;
          if (typeof named !== 'string')
            return json(res, 400, { message: 'writeKey must be a string' });
          key = named;
          input = rest;
        }
        const patch = parseFaultPatch(input);
        if (!patch.ok) return json(res, 400, { message: patch.error });
        const { seed: newSeed, ...fields } = patch.value;
        if (newSeed !== undefined) {
          seed = newSeed;
          random = mulberry32(seed);
        }
        if (key !== undefined) {
          const scoped = applyFaultPatch(keyFaults.get(key) ?? faults, fields);
          keyFaults.set(key, scoped);
          return json(res, 200, { ...scoped, writeKey: key, seed });
        }
        setFaults(fields);
        return json(res, 200, { ...faults, seed });
      }
      default:
        return json(res, 404, { message: `No admin route ${path}.` });
    }
  }

  function setFaults(patch: Partial<Faults>): void {
    faults = applyFaultPatch(faults, patch);
    log(`faults ${JSON.stringify(faults)}`);
  }

  function events(writeKey: string): string {
    const files = stats.keys[writeKey]?.files ?? [];
    return files.map((f) => readFileSync(f, 'utf8')).join('');
  }

  function snapshot(): LocalSegmentStats {
    return {
      ...structuredClone(stats),
      startedAt: startedAt.toISOString(),
      dataDir,
      seed,
      faults: { ...faults },
    };
  }

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    const handled = path.startsWith('/_local/')
      ? handleAdmin(req, res, path)
      : path === '/v1/batch' && req.method === 'POST'
        ? handleBatch(req, res)
        : (async () => {
            req.resume();
            json(res, 404, { success: false, message: `No route ${req.method} ${path}.` });
          })();
    handled.catch((err: unknown) => {
      log(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      recordCall(stats, { outcome: 'internal_error', bodyBytes: 0, eventBytes: [] });
      json(res, 500, { success: false, message: 'Internal error' });
    });
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, options.host ?? DEFAULT_HOST, () => {
      server.off('error', fail);
      ok();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    dataDir,
    stats: snapshot,
    faults: () => ({ ...faults }),
    setFaults,
    events,
    close: () =>
      new Promise<void>((ok) => {
        closing.abort();
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
