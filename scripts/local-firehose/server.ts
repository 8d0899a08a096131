// The local Firehose endpoint: a node:http server that speaks Firehose's JSON 1.1 API
// (PutRecordBatch, PutRecord), verifies SigV4, injects configured faults and appends accepted
// records to files laid out like Firehose's S3 delivery. Adapter: I/O only; parsing, signing,
// faults, paths, counters and the late-answer ledger live in the sibling modules.

import { readFileSync } from 'node:fs';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { isLoopback, readBody, wait } from '../local-http';
import {
  NO_FAULTS,
  applyFaultPatch,
  decideCallFault,
  decideRecordFailures,
  mulberry32,
  parseFaultPatch,
} from './faults';
import type { Faults, Random } from './faults';
import { emptyLateStream, markLate } from './late';
import type { LateLedger, LateStream } from './late';
import {
  AMZ_JSON_CONTENT_TYPE,
  LOCAL_MAX_HTTP_BODY_BYTES,
  describeRequestError,
  isAmzJsonContentType,
  parsePutRequest,
  parseTarget,
  wireStatus,
} from './protocol';
import type {
  Operation,
  PutRecordBatchEntry,
  PutRecordBatchOutput,
  PutRecordOutput,
  WireError,
  WireErrorType,
} from './protocol';
import { verifySigV4 } from './sigv4';
import type { SigV4Credentials } from './sigv4';
import { FileSink, instanceTag } from './sink';
import type { SinkWrite } from './sink';
import { emptyStats, recordCall } from './stats';
import type { Outcome, Stats } from './stats';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_ACCESS_KEY_ID = 'local';
export const DEFAULT_SECRET_ACCESS_KEY = 'local-secret';

// Admin bodies are a handful of fault fields.
const ADMIN_MAX_BODY_BYTES = 64 * 1024;

// Wording of the real service for the injected whole-call faults.
const MESSAGE_SLOW_DOWN = 'Slow down.';
const MESSAGE_INTERNAL = 'We encountered an internal error. Please try again.';
const MESSAGE_EXPIRED_TOKEN = 'The security token included in the request is expired';

// The maxCallBytes refusal, after the API reference's "4 MB for the entire request". Both
// sizes are named, so a test (or a person reading the collector's logs) sees what tripped.
function callTooLargeMessage(bytes: number, limit: number): string {
  return `Records size ${bytes} bytes exceeds the limit of ${limit} bytes for the request`;
}

export interface LocalFirehoseOptions {
  dataDir: string;
  host?: string;
  // 0 (the default) picks a free port; read it back from `port` / `url`.
  port?: number;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  // When set, requests must carry it as X-Amz-Security-Token.
  sessionToken?: string;
  // Known stream names; others get ResourceNotFoundException. Unset: any valid name is accepted.
  streams?: readonly string[];
  faults?: Partial<Faults>;
  // PRNG seed for faults; random (and reported in stats) when unset.
  seed?: number;
  // One line per API call and per admin change; silent when unset.
  log?: (line: string) => void;
  // Clock for SigV4 freshness and the hour a record lands in.
  now?: () => Date;
  maxClockSkewMs?: number;
  // A handled call answered this long or more after it was signed (its X-Amz-Date, whole
  // seconds) goes on the late list too: set it a little under the client's own timeout, and a
  // call whose slow answer the client may have given up on is listed (a loaded machine answers
  // late without any fault). Unset: only late-answer faults and unanswered calls are listed.
  slowAnswerMs?: number;
}

/** Milliseconds since the request's X-Amz-Date (YYYYMMDDTHHMMSSZ), or undefined without one. */
function sinceSigned(req: IncomingMessage, now: Date): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(
    headerString(req, 'x-amz-date') ?? '',
  );
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number);
  return now.getTime() - Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 1, h ?? 0, mi ?? 0, s ?? 0);
}

export interface LocalFirehoseStats extends Stats {
  startedAt: string;
  dataDir: string;
  seed: number;
  faults: Faults;
}

export interface LocalFirehose {
  url: string;
  port: number;
  dataDir: string;
  seed: number;
  close(): Promise<void>;
  stats(): LocalFirehoseStats;
  faults(): Faults;
  setFaults(patch: Partial<Faults>): void;
  // What GET /_local/late?stream= serves: the calls answered late for one stream.
  late(stream: string): LateStream;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

interface ApiReply extends Reply {
  outcome: Outcome;
  operation?: Operation;
  stream?: string;
  records: number;
  failed: number;
  bytesWritten: number;
  newFile?: string;
  errorType?: WireErrorType;
  // A late answer: how long to hold it once the records are written and counted.
  holdMs?: number;
  // The records a handled call wrote, for the late ledger should its answer never arrive.
  written?: readonly Uint8Array[];
}

function wireError(type: WireErrorType, message: string): Reply & { errorType: WireErrorType } {
  const body: WireError = { __type: type, message };
  return { status: wireStatus(type), body, errorType: type, headers: { 'x-amzn-ErrorType': type } };
}

function apiError(
  outcome: Outcome,
  type: WireErrorType,
  message: string,
  extra: Partial<ApiReply> = {},
): ApiReply {
  return { ...wireError(type, message), outcome, records: 0, failed: 0, bytesWritten: 0, ...extra };
}

function headerString(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function send(res: ServerResponse, reply: Reply, contentType: string): void {
  if (res.headersSent || res.destroyed) return;
  const payload = Buffer.from(JSON.stringify(reply.body));
  res.writeHead(reply.status, {
    'content-type': contentType,
    'content-length': String(payload.length),
    'x-amzn-RequestId': randomUUID(),
    ...reply.headers,
  });
  res.end(payload);
}

function newRecordId(): string {
  return randomBytes(48).toString('base64url');
}

export async function createLocalFirehose(options: LocalFirehoseOptions): Promise<LocalFirehose> {
  const now = options.now ?? ((): Date => new Date());
  const log = options.log ?? ((): void => {});
  const dataDir = resolve(options.dataDir);
  const startedAt = now();
  const creds: SigV4Credentials = {
    accessKeyId: options.accessKeyId ?? DEFAULT_ACCESS_KEY_ID,
    secretAccessKey: options.secretAccessKey ?? DEFAULT_SECRET_ACCESS_KEY,
    region: options.region ?? DEFAULT_REGION,
    ...(options.sessionToken === undefined ? {} : { sessionToken: options.sessionToken }),
  };
  const knownStreams = options.streams === undefined ? undefined : new Set(options.streams);
  const sink = new FileSink(
    dataDir,
    instanceTag(startedAt, process.pid, randomBytes(3).toString('hex')),
  );
  let seed = options.seed ?? randomInt(2 ** 31);
  let random: Random = mulberry32(seed);
  let faults: Faults = applyFaultPatch(NO_FAULTS, options.faults ?? {});
  // Faults set for one stream only (POST /_local/faults {"stream": …}), so tests that share
  // one server can each fail their own stream without touching the others.
  const streamFaults = new Map<string, Faults>();
  const stats = emptyStats();
  const late: LateLedger = new Map();
  const closing = new AbortController();

  async function callApi(
    req: IncomingMessage,
    body: Buffer,
    active: Faults,
    signal: AbortSignal,
  ): Promise<ApiReply> {
    const rawUrl = req.url ?? '/';
    const query = rawUrl.indexOf('?');
    const auth = await verifySigV4(
      {
        method: req.method ?? 'POST',
        path: query < 0 ? rawUrl : rawUrl.slice(0, query),
        query: query < 0 ? '' : rawUrl.slice(query + 1),
        headers: req.headers,
        body,
      },
      creds,
      {
        now: now(),
        ...(options.maxClockSkewMs === undefined ? {} : { maxClockSkewMs: options.maxClockSkewMs }),
      },
    );
    if (!auth.ok) return apiError('auth_failed', auth.code, auth.message);

    const target = headerString(req, 'x-amz-target');
    const operation = parseTarget(target);
    if (operation === undefined) {
      return apiError(
        'unknown_operation',
        'UnknownOperationException',
        `Unknown operation ${target ?? '(no X-Amz-Target)'}.`,
      );
    }
    const contentType = headerString(req, 'content-type');
    if (!isAmzJsonContentType(contentType)) {
      const message = describeRequestError({
        reason: 'bad_content_type',
        contentType: contentType ?? '',
      });
      return apiError('invalid', 'InvalidArgumentException', message, { operation });
    }
    const parsed = parsePutRequest(operation, body);
    if (!parsed.ok) {
      const message = describeRequestError(parsed.error);
      return apiError('invalid', 'InvalidArgumentException', message, { operation });
    }
    const { stream, records, dataBytes } = parsed.value;
    const base = { operation, stream, records: records.length };
    if (knownStreams !== undefined && !knownStreams.has(stream)) {
      return apiError(
        'unknown_stream',
        'ResourceNotFoundException',
        `Firehose stream ${stream} under account 000000000000 not found.`,
        base,
      );
    }

    const effective = streamFaults.get(stream) ?? active;
    const callFault = decideCallFault(effective, random, { dataBytes });
    switch (callFault.kind) {
      case 'expiredToken':
        return apiError('expired_token', 'ExpiredTokenException', MESSAGE_EXPIRED_TOKEN, base);
      case 'tooLarge':
        return apiError(
          'too_large',
          'InvalidArgumentException',
          callTooLargeMessage(callFault.bytes, callFault.limit),
          base,
        );
      case 'stall':
        await wait(callFault.ms, signal);
        return apiError('stalled', 'InternalFailure', MESSAGE_INTERNAL, base);
      case 'throttle':
        return apiError('throttled', 'ServiceUnavailableException', MESSAGE_SLOW_DOWN, base);
      case 'error500':
        return apiError('error_500', 'InternalFailure', MESSAGE_INTERNAL, base);
      case 'notFound':
        return apiError(
          'unknown_stream',
          'ResourceNotFoundException',
          `Firehose stream ${stream} under account 000000000000 not found.`,
          base,
        );
      case 'late':
      case 'none':
        break;
    }
    const holdMs = callFault.kind === 'late' ? callFault.ms : undefined;

    const failures = decideRecordFailures(effective, records.length, random);
    const accepted = records.filter((_, i) => failures[i] !== true);
    const failed = records.length - accepted.length;
    let written: SinkWrite;
    try {
      // Synchronous append before any reply: an acknowledged record is already in the file.
      written = sink.append(stream, accepted, now());
    } catch (err) {
      log(`sink error stream=${stream}: ${err instanceof Error ? err.message : String(err)}`);
      return apiError('sink_error', 'InternalFailure', MESSAGE_INTERNAL, base);
    }
    // Marked as soon as written, so a client that leaves during the hold changes nothing.
    if (holdMs !== undefined) markLate(late, stream, accepted);
    const handled: Outcome = failed === 0 ? 'ok' : accepted.length === 0 ? 'all_failed' : 'partial';
    const outcome: Outcome = holdMs === undefined ? handled : 'late';
    const result = {
      ...base,
      ...(holdMs === undefined ? {} : { holdMs }),
      written: accepted,
      outcome,
      failed,
      bytesWritten: written.bytes,
      ...(written.created ? { newFile: written.file } : {}),
    };

    if (operation === 'PutRecord') {
      if (failed > 0) {
        return { ...result, ...wireError('ServiceUnavailableException', MESSAGE_SLOW_DOWN) };
      }
      const output: PutRecordOutput = { RecordId: newRecordId(), Encrypted: false };
      return { ...result, status: 200, body: output };
    }
    const responses: PutRecordBatchEntry[] = failures.map((fails) =>
      fails
        ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: MESSAGE_SLOW_DOWN }
        : { RecordId: newRecordId() },
    );
    const output: PutRecordBatchOutput = {
      FailedPutCount: failed,
      Encrypted: false,
      RequestResponses: responses,
    };
    return { ...result, status: 200, body: output };
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const active = faults;
    const clientGone = new AbortController();
    res.once('close', () => clientGone.abort());
    const signal = AbortSignal.any([closing.signal, clientGone.signal]);

    const read = await readBody(req, LOCAL_MAX_HTTP_BODY_BYTES);
    const reply = read.ok
      ? await callApi(req, read.body, active, signal)
      : apiError(
          'invalid',
          'RequestEntityTooLargeException',
          `Request body of ${read.bytes} bytes exceeds the local cap of ` +
            `${LOCAL_MAX_HTTP_BODY_BYTES} bytes.`,
        );
    // Counted before any wait: what is in the files shows in the stats while an answer is held.
    recordCall(stats, {
      outcome: reply.outcome,
      ...(reply.stream === undefined ? {} : { stream: reply.stream }),
      accepted: reply.status === 200 ? reply.records - reply.failed : 0,
      failed: reply.failed,
      bytesWritten: reply.bytesWritten,
      ...(reply.newFile === undefined ? {} : { newFile: reply.newFile }),
    });
    const latency =
      (reply.stream === undefined ? undefined : streamFaults.get(reply.stream)) ?? active;
    await wait((reply.holdMs ?? 0) + latency.latencyMs, signal);

    // Written, but the client left (it gave up, or the server is closing) before the answer
    // went, or answered so long after it was signed that the client may have given up: to the
    // client this is a late answer too, its records landed unacknowledged.
    const unanswered = res.destroyed || clientGone.signal.aborted || closing.signal.aborted;
    const slow =
      options.slowAnswerMs !== undefined && (sinceSigned(req, now()) ?? 0) >= options.slowAnswerMs;
    const written = reply.written ?? [];
    if (
      (unanswered || slow) &&
      reply.holdMs === undefined &&
      reply.stream !== undefined &&
      written.length > 0
    )
      markLate(late, reply.stream, written);
    const ms = Math.round(performance.now() - started);
    log(
      `${reply.operation ?? 'call'} stream=${reply.stream ?? '-'} records=${reply.records} ` +
        `failed=${reply.failed} outcome=${reply.outcome} status=${reply.status}` +
        `${reply.errorType === undefined ? '' : ` error=${reply.errorType}`} ${ms}ms`,
    );
    send(res, reply, AMZ_JSON_CONTENT_TYPE);
  }

  async function handleAdmin(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
  ): Promise<void> {
    const json = (status: number, body: unknown, headers?: Record<string, string>): void =>
      send(
        res,
        { status, body, ...(headers === undefined ? {} : { headers }) },
        'application/json',
      );
    const read = await readBody(req, ADMIN_MAX_BODY_BYTES);
    if (!isLoopback(req.socket.remoteAddress)) {
      return json(403, { message: 'Admin endpoints answer loopback clients only.' });
    }
    const method = req.method ?? 'GET';
    const allow = (allowed: string): boolean => {
      if (method === allowed) return true;
      json(405, { message: `Use ${allowed} for ${path}.` }, { allow: allowed });
      return false;
    };
    switch (path) {
      case '/_local/health':
        if (allow('GET')) json(200, { status: 'ok' });
        return;
      case '/_local/stats':
        if (allow('GET')) json(200, snapshot());
        return;
      case '/_local/faults': {
        if (method === 'GET') return json(200, faults);
        if (!allow('POST')) return;
        if (!read.ok) return json(413, { message: 'Fault body too large.' });
        let input: unknown;
        try {
          input = JSON.parse(read.body.toString('utf8'));
        } catch {
          return json(400, { message: 'Body is not valid JSON.' });
        }
        // An optional "stream" scopes the patch to that stream; the rest are fault fields.
        let stream: string | undefined;
        if (typeof input === 'object' && input !== null && 'stream' in input) {
          const { stream: named, ...rest } = input as Record<string, unknown>;
          if (typeof named !== 'string') return json(400, { message: 'stream must be a string' });
          stream = named;
          input = rest;
        }
        const patch = parseFaultPatch(input);
        if (!patch.ok) return json(400, { message: patch.error });
        const { seed: newSeed, ...fields } = patch.value;
        if (stream !== undefined) {
          const scoped = applyFaultPatch(streamFaults.get(stream) ?? faults, fields);
          streamFaults.set(stream, scoped);
          if (newSeed !== undefined) reseed(newSeed);
          return json(200, { ...scoped, stream, seed });
        }
        setFaults(fields);
        if (newSeed !== undefined) reseed(newSeed);
        return json(200, { ...faults, seed });
      }
      case '/_local/records': {
        // Everything this instance wrote for one stream, concatenated in write order.
        if (!allow('GET')) return;
        const stream = new URL(req.url ?? '/', 'http://local').searchParams.get('stream') ?? '';
        const files = stats.streams[stream]?.files ?? [];
        const text = files.map((f) => readFileSync(f, 'utf8')).join('');
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.end(text);
        return;
      }
      case '/_local/late': {
        if (!allow('GET')) return;
        const stream = new URL(req.url ?? '/', 'http://local').searchParams.get('stream');
        if (stream === null || stream === '') {
          return json(400, { message: 'Name the stream: /_local/late?stream=<name>.' });
        }
        return json(200, lateFor(stream));
      }
      default:
        return json(404, { message: `No admin route ${path}.` });
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    if (path.startsWith('/_local/')) return handleAdmin(req, res, path);
    if (path !== '/') {
      req.resume();
      return send(res, wireError('NotFoundException', `No route ${path}.`), AMZ_JSON_CONTENT_TYPE);
    }
    if (req.method !== 'POST') {
      req.resume();
      const reply = wireError('MethodNotAllowedException', 'Firehose API calls are POST /.');
      return send(
        res,
        { ...reply, headers: { ...reply.headers, allow: 'POST' } },
        AMZ_JSON_CONTENT_TYPE,
      );
    }
    return handleApi(req, res);
  }

  function setFaults(patch: Partial<Faults>): void {
    faults = applyFaultPatch(faults, patch);
    log(`faults ${JSON.stringify(faults)}`);
  }

  function reseed(next: number): void {
    seed = next;
    random = mulberry32(seed);
    log(`seed ${seed}`);
  }

  function lateFor(stream: string): LateStream {
    return structuredClone(late.get(stream) ?? emptyLateStream());
  }

  function snapshot(): LocalFirehoseStats {
    return {
      ...structuredClone(stats),
      startedAt: startedAt.toISOString(),
      dataDir,
      seed,
      faults: { ...faults },
    };
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // Anything unexpected: log it, answer a generic 500 that leaks nothing.
      log(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      recordCall(stats, { outcome: 'internal_error', accepted: 0, failed: 0, bytesWritten: 0 });
      send(res, wireError('InternalFailure', MESSAGE_INTERNAL), AMZ_JSON_CONTENT_TYPE);
    });
  });

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port ?? 0, options.host ?? DEFAULT_HOST, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  return {
    url,
    port: address.port,
    dataDir,
    get seed() {
      return seed;
    },
    stats: snapshot,
    faults: () => ({ ...faults }),
    setFaults,
    late: lateFor,
    close: () =>
      new Promise<void>((resolveClose) => {
        closing.abort();
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}
