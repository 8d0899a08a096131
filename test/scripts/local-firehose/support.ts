// Shared helpers for the local Firehose tests: start a server on an ephemeral loopback port
// with a temp data dir, sign calls with aws4fetch exactly as the Worker does, read back files.

import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsClient } from 'aws4fetch';
import { createLocalFirehose } from '../../../scripts/local-firehose/server';
import type { LocalFirehose, LocalFirehoseOptions } from '../../../scripts/local-firehose/server';

export const TEST_CREDS = {
  accessKeyId: 'AKIDLOCALTEST',
  secretAccessKey: 'local-test-secret',
  region: 'eu-west-1',
} as const;

export const STREAM = 'ndc-events';

export interface Harness {
  start(options?: Partial<LocalFirehoseOptions>): Promise<Started>;
  cleanup(): Promise<void>;
}

export interface Started {
  firehose: LocalFirehose;
  dataDir: string;
  client: AwsClient;
}

export function createHarness(): Harness {
  const pending: (() => Promise<void>)[] = [];
  return {
    async start(options = {}) {
      const dataDir = await mkdtemp(join(tmpdir(), 'local-firehose-'));
      const firehose = await createLocalFirehose({
        host: '127.0.0.1',
        port: 0,
        ...TEST_CREDS,
        ...options,
        dataDir: options.dataDir ?? dataDir,
      });
      pending.push(async () => {
        await firehose.close();
        await rm(dataDir, { recursive: true, force: true });
      });
      return { firehose, dataDir: firehose.dataDir, client: signingClient() };
    },
    async cleanup() {
      await Promise.all(pending.splice(0).map((fn) => fn()));
    },
  };
}

/** The Worker's signer: aws4fetch, service firehose, no retries (the queue owns retries). */
export function signingClient(
  overrides: Partial<ConstructorParameters<typeof AwsClient>[0]> = {},
): AwsClient {
  return new AwsClient({
    accessKeyId: TEST_CREDS.accessKeyId,
    secretAccessKey: TEST_CREDS.secretAccessKey,
    region: TEST_CREDS.region,
    service: 'firehose',
    retries: 0,
    ...overrides,
  });
}

export const JSON_11 = 'application/x-amz-json-1.1';

export function apiHeaders(operation = 'PutRecordBatch'): Record<string, string> {
  return {
    'X-Amz-Target': `Firehose_20150804.${operation}`,
    'Content-Type': JSON_11,
  };
}

export function batchBody(stream: string, records: readonly Uint8Array[]): string {
  return JSON.stringify({
    DeliveryStreamName: stream,
    Records: records.map((r) => ({ Data: Buffer.from(r).toString('base64') })),
  });
}

export interface Answer {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
}

async function toAnswer(res: Response): Promise<Answer> {
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    json: JSON.parse(text) as Record<string, unknown>,
  };
}

/** A signed Firehose API call. */
export async function call(
  client: AwsClient,
  url: string,
  body: string,
  headers: Record<string, string> = apiHeaders(),
): Promise<Answer> {
  return toAnswer(await client.fetch(url, { method: 'POST', headers, body }));
}

export async function putRecordBatch(
  client: AwsClient,
  url: string,
  records: readonly Uint8Array[],
  stream = STREAM,
): Promise<Answer> {
  return call(client, url, batchBody(stream, records));
}

/** Signs with `client`, then sends `mutate`d headers/body: the signature no longer covers them. */
export async function callTampered(
  client: AwsClient,
  url: string,
  body: string,
  mutate: (signed: { headers: Record<string, string>; body: string }) => {
    headers: Record<string, string>;
    body: string;
  },
): Promise<Answer> {
  const signed = await client.sign(url, { method: 'POST', headers: apiHeaders(), body });
  const headers: Record<string, string> = {};
  signed.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const sent = mutate({ headers, body });
  return toAnswer(await fetch(url, { method: 'POST', headers: sent.headers, body: sent.body }));
}

export async function adminGet(url: string, path: string): Promise<Answer> {
  return toAnswer(await fetch(`${url}${path}`));
}

export async function adminPost(url: string, path: string, body: unknown): Promise<Answer> {
  return toAnswer(
    await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}

/** Every file under `dir`, as paths relative to it, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

export async function readAllFiles(dir: string): Promise<Buffer> {
  const files = await listFiles(dir);
  return Buffer.concat(await Promise.all(files.map((f) => readFile(join(dir, f)))));
}

export function ndjsonRecord(i: number, padTo = 0): Buffer {
  const line = JSON.stringify({ type: 'track', event: `Event ${i}`, messageId: `m-${i}` });
  return Buffer.from(`${line.padEnd(padTo, ' ')}\n`);
}

/**
 * Length and SHA-256 of some bytes: compare these instead of multi-megabyte Buffers, which
 * vitest's deep equality walks byte by byte (seconds per MiB).
 */
export function fingerprint(bytes: Uint8Array): { bytes: number; sha256: string } {
  return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}
