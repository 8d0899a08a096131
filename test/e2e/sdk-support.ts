// Helpers for the SDK end-to-end tests (analytics-node in Node, analytics.js in Chromium):
// checking the Worker's enrichment on a landed event against what the SDK sent, and a small
// static HTTP server on loopback for the browser test page.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';

export type Json = Record<string, unknown>;

// Added by the Worker from the request (README, Enrichment): never sent by our SDK calls.
const REQUEST_CONTEXT_KEYS = ['ip', 'userAgent', 'location'] as const;

export function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Milliseconds since the epoch of an ISO-8601 string; fails the test on anything else. */
export function isoMillis(value: unknown): number {
  expect(typeof value).toBe('string');
  const millis = Date.parse(String(value));
  expect(Number.isNaN(millis)).toBe(false);
  return millis;
}

export function omit(o: Json, keys: readonly string[]): Json {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
}

export interface SentFacts {
  /** The event as the SDK put it on the wire (JSON round-tripped). */
  sent: Json;
  /** The `sentAt` that applies to it: its own, or its batch's. */
  sentAt: string;
  /** What the Worker should have filled into `context` from the request. */
  ip: string;
  userAgent: string;
}

/**
 * Asserts that a landed event is the SDK's event, intact, plus the Worker's enrichment:
 * `source`, `receivedAt`, `sentAt`, skew-corrected `timestamp` with the client's value kept as
 * `originalTimestamp`, `context.ip` and `context.userAgent`, and no `writeKey`.
 */
export function expectEnriched(landed: Json, facts: SentFacts, source: string): void {
  const { sent } = facts;
  // Every field the SDK sent comes back unchanged (timestamp and context are checked below).
  const untouched = omit(sent, ['timestamp', 'context', 'sentAt', 'writeKey']);
  expect(omit(landed, ['timestamp', 'context', 'sentAt', 'originalTimestamp'])).toEqual({
    ...untouched,
    source,
    receivedAt: landed['receivedAt'],
  });
  expect(Object.keys(landed)).not.toContain('writeKey');

  const context = landed['context'];
  if (!isJson(context)) throw new Error(`landed event has no context: ${JSON.stringify(landed)}`);
  const sentContext = isJson(sent['context']) ? sent['context'] : {};
  expect(omit(context, REQUEST_CONTEXT_KEYS)).toEqual(omit(sentContext, REQUEST_CONTEXT_KEYS));
  expect(context['ip']).toBe(facts.ip);
  expect(context['userAgent']).toBe(facts.userAgent);

  // timestamp = receivedAt - (sentAt - originalTimestamp), to the millisecond.
  expect(landed['sentAt']).toBe(facts.sentAt);
  expect(landed['originalTimestamp']).toBe(sent['timestamp']);
  const receivedAt = isoMillis(landed['receivedAt']);
  const skew = isoMillis(facts.sentAt) - isoMillis(sent['timestamp']);
  expect(isoMillis(landed['timestamp'])).toBe(receivedAt - skew);
}

export interface StaticFile {
  contentType: string;
  body: string | Buffer;
}

export interface PageServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Paths requested, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves fixed files by exact path on 127.0.0.1; anything else is 404. */
export async function startPageServer(files: Record<string, StaticFile>): Promise<PageServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    requests.push(path);
    const file = files[path];
    if (req.method !== 'GET' || file === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': file.contentType, 'Cache-Control': 'no-store' });
    res.end(file.body);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
