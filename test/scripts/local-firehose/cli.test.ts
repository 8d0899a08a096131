// The CLI as a developer runs it: a child process on an ephemeral port, called with aws4fetch,
// logging one line per call and stopping cleanly on SIGTERM.

import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { AwsClient } from 'aws4fetch';
import { afterEach, describe, expect, it } from 'vitest';
import { fingerprint, ndjsonRecord, putRecordBatch, readAllFiles } from './support';

const CLI = fileURLToPath(new URL('../../../scripts/local-firehose.ts', import.meta.url));
const STARTUP_TIMEOUT_MS = 10_000;

type Child = ChildProcessByStdio<null, Readable, Readable>;

interface Running {
  child: Child;
  url: string;
  stdout: () => string;
  exited: Promise<number | null>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((fn) => fn()));
});

function withoutAwsEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('AWS_')) delete env[key];
  return env;
}

/** Starts the CLI through tsx's loader and waits for its "listening on <url>" line. */
async function startCli(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    env: withoutAwsEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`CLI did not start: ${out}${err}`)),
      STARTUP_TIMEOUT_MS,
    );
    const check = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`CLI exited with ${code}: ${out}${err}`));
    });
  });
  return { child, url, stdout: () => out, exited };
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'local-firehose-cli-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A client with the CLI's default credentials and region (local / local-secret, us-east-1). */
function defaultClient(): AwsClient {
  return new AwsClient({
    accessKeyId: 'local',
    secretAccessKey: 'local-secret',
    region: 'us-east-1',
    service: 'firehose',
    retries: 0,
  });
}

describe('scripts/local-firehose.ts', () => {
  it('starts on --port 0, accepts a signed batch, logs it and stops on SIGTERM', async () => {
    const dataDir = await tempDir();
    const cli = await startCli([
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--region',
      'ap-southeast-2',
      '--access-key-id',
      'AKIDCLI',
      '--secret-access-key',
      'cli-secret',
      '--streams',
      'events,other',
      '--seed',
      '11',
    ]);
    expect(cli.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(cli.stdout()).toContain(`data-dir=${dataDir}`);
    expect(cli.stdout()).toContain('seed=11');

    const client = new AwsClient({
      accessKeyId: 'AKIDCLI',
      secretAccessKey: 'cli-secret',
      region: 'ap-southeast-2',
      service: 'firehose',
      retries: 0,
    });
    const sent = [ndjsonRecord(1), ndjsonRecord(2)];
    const answer = await putRecordBatch(client, cli.url, sent, 'events');
    expect(answer.status).toBe(200);
    expect(fingerprint(await readAllFiles(dataDir))).toEqual(fingerprint(Buffer.concat(sent)));
    const unknown = await putRecordBatch(client, cli.url, sent, 'nope');
    expect(unknown.json['__type']).toBe('ResourceNotFoundException');

    // The log line travels through a pipe; it may arrive just after the HTTP answer.
    await expect
      .poll(cli.stdout)
      .toMatch(/PutRecordBatch stream=events records=2 failed=0 outcome=ok status=200/);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toMatch(/stopped calls=2 accepted=2 failed=0/);
  });

  it('uses local / local-secret in us-east-1 by default and applies fault flags', async () => {
    const dataDir = await tempDir();
    const cli = await startCli(['--port', '0', '--data-dir', dataDir, '--throttle', '1']);
    expect(cli.stdout()).toContain('faults=throttle=1');
    const client = defaultClient();
    const answer = await putRecordBatch(client, cli.url, [ndjsonRecord(1)]);
    expect(answer.status).toBe(503);
    expect(answer.json['__type']).toBe('ServiceUnavailableException');
    const health = await fetch(`${cli.url}/_local/health`);
    expect(health.status).toBe(200);
  });

  it('applies --max-call-bytes, --late-answer and --late-answer-ms', async () => {
    const dataDir = await tempDir();
    const cli = await startCli([
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--max-call-bytes',
      '100',
      '--late-answer',
      '1',
      '--late-answer-ms',
      '250',
    ]);
    expect(cli.stdout()).toContain('faults=lateAnswer=1 maxCallBytes=100 lateAnswerMs=250');
    const client = defaultClient();
    const tooBig = await putRecordBatch(client, cli.url, [Buffer.alloc(101, 0x61)]);
    expect(tooBig.json).toEqual({
      __type: 'InvalidArgumentException',
      message: 'Records size 101 bytes exceeds the limit of 100 bytes for the request',
    });
    const started = performance.now();
    const late = await putRecordBatch(client, cli.url, [ndjsonRecord(4)]);
    expect(late.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
    const marked = await fetch(`${cli.url}/_local/late?stream=ndc-events`);
    expect(await marked.json()).toMatchObject({ calls: 1, messageIds: ['m-4'] });
  });

  it('answers ExpiredTokenException under --expired-token 1', async () => {
    const dataDir = await tempDir();
    const cli = await startCli(['--port', '0', '--data-dir', dataDir, '--expired-token', '1']);
    expect(cli.stdout()).toContain('faults=expiredToken=1');
    const client = defaultClient();
    const answer = await putRecordBatch(client, cli.url, [ndjsonRecord(1)]);
    expect(answer.status).toBe(400);
    expect(answer.json['__type']).toBe('ExpiredTokenException');
  });

  it.each([
    ['--expired-token', '2', /--expired-token must be a number from 0 to 1/],
    ['--late-answer-ms', '1.5', /--late-answer-ms must be an integer from 0 to 3600000/],
    ['--max-call-bytes', '4194305', /--max-call-bytes must be an integer from 0 to 4194304/],
  ])('exits 2 with usage on %s %s', async (flag, value, message) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, flag, value], {
      env: withoutAwsEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(err).toMatch(/Usage:/);
  });

  it('exits 2 with usage on a bad flag value', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--fail-records', '1.5'], {
      env: withoutAwsEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toMatch(/--fail-records must be a number from 0 to 1/);
    expect(err).toMatch(/Usage:/);
  });
});
