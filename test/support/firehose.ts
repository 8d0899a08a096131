// Worker-side helpers for the local Firehose endpoint the global setup runs: faults scoped to
// a stream, and read-back of what it wrote.
import { inject } from 'vitest';

const utf8 = new TextDecoder();

/**
 * A response body as UTF-8 text, read as bytes: workerd warns on Response.text() for a type it
 * does not count as text, such as the endpoint's application/x-ndjson.
 */
async function bodyText(res: Response): Promise<string> {
  return utf8.decode(await res.arrayBuffer());
}

export function firehoseUrl(): string {
  return inject('firehoseUrl');
}

let streamCounter = 0;

/** A stream name no other test uses, so its faults and files are this test's alone. */
export function uniqueStream(label: string): string {
  streamCounter += 1;
  return `${label}-${Date.now().toString(36)}-${streamCounter}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface StreamFaults {
  failRecords?: number;
  throttle?: number;
  error500?: number;
  notFound?: number;
  latencyMs?: number;
  stall?: number;
  stallMs?: number;
  expiredToken?: number;
  maxCallBytes?: number;
  lateAnswer?: number;
  lateAnswerMs?: number;
  seed?: number;
}

export async function setStreamFaults(stream: string, faults: StreamFaults): Promise<void> {
  const res = await fetch(`${firehoseUrl()}/_local/faults`, {
    method: 'POST',
    body: JSON.stringify({ stream, ...faults }),
  });
  if (!res.ok) throw new Error(`setting faults failed: ${res.status} ${await bodyText(res)}`);
}

/** The NDJSON the endpoint accepted for a stream, as the records' bytes held it. */
export async function landedText(stream: string): Promise<string> {
  const res = await fetch(`${firehoseUrl()}/_local/records?stream=${encodeURIComponent(stream)}`);
  return bodyText(res);
}

/** The NDJSON lines the endpoint accepted for a stream, as parsed events. */
export async function landedEvents(stream: string): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${firehoseUrl()}/_local/records?stream=${encodeURIComponent(stream)}`);
  const text = await bodyText(res);
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export interface StreamStats {
  calls: number;
  recordsAccepted: number;
  recordsFailed: number;
  /** Calls by the region their signature was scoped to. */
  regions: Record<string, number>;
}

export async function streamStats(stream: string): Promise<StreamStats | undefined> {
  const res = await fetch(`${firehoseUrl()}/_local/stats`);
  const stats = await res.json<{ streams: Record<string, StreamStats> }>();
  return stats.streams[stream];
}

/** Polls `check` until it returns a value or `timeoutMs` passes. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}
