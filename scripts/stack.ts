// The whole collector on loopback: the local Firehose endpoint (in this process) and the
// Worker under `wrangler dev` (its local queues, DLQ consumer and R2), wired together; with
// forwarding, a local Segment-compatible endpoint (in this process) as FORWARD_ENDPOINT.
// `npm start` runs it for people; the e2e tests run it for assertions.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { syncAnalyticsJsAssets } from './analytics-js-assets';
import { parseForwardWriteKeys } from '../src/forward/settings';
import { createLocalFirehose, type LocalFirehose } from './local-firehose/server';
import type { Faults } from './local-firehose/faults';
import { createLocalSegment, type LocalSegment } from './local-segment/server';
import type { Faults as SegmentFaults } from './local-segment/faults';

// track.json (the seed's sample call) carries this key.
export const SEED_WRITE_KEYS = '8GT90rhOugcEGAqdcBWP8muss7iSwwHy=ndc-demo';

// What the local endpoint and the Worker agree on; never real AWS credentials.
export const LOCAL_CREDENTIALS = {
  region: 'us-east-1',
  accessKeyId: 'AKIDLOCALNDCSEGMENT',
  secretAccessKey: 'local-secret-not-for-aws',
} as const;

// Ours: wrangler dev answers in ~2-3 s here; a cold machine may take several times that.
const WRANGLER_READY_TIMEOUT_MS = 60_000;

export interface StackOptions {
  /** Worker port; 0 picks a free one. */
  port?: number;
  /** Local Firehose port; 0 picks a free one. */
  firehosePort?: number;
  /** Where the local Firehose writes (default .data/firehose). */
  dataDir?: string;
  /** Where wrangler dev keeps queues and R2 (default .data/wrangler). */
  persistTo?: string;
  stream?: string;
  writeKeys?: string;
  faults?: Partial<Faults>;
  /** Extra `--var NAME:value` pairs for the Worker. */
  vars?: Record<string, string>;
  /** Lines from wrangler and the endpoint; default: dropped. */
  log?: (line: string) => void;
  /** Inherit wrangler's stdio instead of capturing it (interactive use). */
  inheritStdio?: boolean;
  /** `https` serves the Worker with wrangler's self-signed certificate (default `http`). */
  localProtocol?: 'http' | 'https';
  /** Another wrangler config (beside wrangler.toml, so its relative paths hold): `--config`. */
  configPath?: string;
  /**
   * Forwarding to a local Segment-compatible endpoint (docs/forwarding.md): FORWARD_WRITE_KEYS,
   * `source=destinationWriteKey,…`; the endpoint accepts exactly those destination keys.
   * Unset: no endpoint, no forwarding.
   */
  forwardWriteKeys?: string;
  /** Local Segment endpoint port; 0 picks a free one. */
  segmentPort?: number;
  /** Where the local Segment endpoint writes (default .data/segment). */
  segmentDataDir?: string;
  segmentFaults?: Partial<SegmentFaults>;
}

export interface Stack {
  workerUrl: string;
  firehose: LocalFirehose;
  stream: string;
  /** Stops wrangler dev and the local endpoint. */
  stop(): Promise<void>;
  /** Stops the local Firehose endpoint for `downMs`, then starts it again on the same port. */
  restartFirehose(downMs: number): Promise<void>;
  /** The local Segment-compatible endpoint, when forwarding was asked for. */
  segment: LocalSegment | undefined;
  /** Stops the local Segment endpoint for `downMs` (connections refused), then restarts it. */
  restartSegment(downMs: number): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

function waitForReady(
  child: ChildProcess,
  log: (line: string) => void,
  inherit: boolean,
): Promise<void> {
  return new Promise((ok, fail) => {
    const timer = setTimeout(
      () => fail(new Error('wrangler dev did not become ready')),
      WRANGLER_READY_TIMEOUT_MS,
    );
    const done = (error?: Error): void => {
      clearTimeout(timer);
      if (error) fail(error);
      else ok();
    };
    child.once('exit', (code) => done(new Error(`wrangler dev exited with ${code}`)));
    if (inherit) {
      // Without captured output, readiness is the first answer on the port (polled by caller).
      done();
      return;
    }
    let buffer = '';
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        log(line);
        if (line.includes('Ready on')) done();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  });
}

/** One GET, answered with any status. */
async function probe(url: string): Promise<void> {
  if (!url.startsWith('https:')) {
    const res = await fetch(url);
    await res.arrayBuffer();
    return;
  }
  // wrangler dev's self-signed certificate, on loopback: nothing to verify.
  await new Promise<void>((ok, fail) => {
    httpsGet(url, { rejectUnauthorized: false }, (res) => {
      res.resume();
      res.once('end', ok);
    }).once('error', fail);
  });
}

async function waitForHttp(url: string): Promise<void> {
  const deadline = Date.now() + WRANGLER_READY_TIMEOUT_MS;
  for (;;) {
    try {
      await probe(url);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url} did not answer`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const log = options.log ?? ((): void => undefined);
  const dataDir = resolve(options.dataDir ?? '.data/firehose');
  const persistTo = resolve(options.persistTo ?? '.data/wrangler');
  await mkdir(dataDir, { recursive: true });
  // wrangler dev runs the same copy ([build] in wrangler.toml), but settles on its assets
  // directory before that build has run: on a clean clone the first start could lack them.
  await syncAnalyticsJsAssets();
  const stream = options.stream ?? 'ndc-segment';
  const firehoseOptions = {
    host: '127.0.0.1',
    dataDir,
    ...LOCAL_CREDENTIALS,
    ...(options.faults === undefined ? {} : { faults: options.faults }),
    log: (line: string) => log(`[firehose] ${line}`),
  };
  let firehose = await createLocalFirehose({ ...firehoseOptions, port: options.firehosePort ?? 0 });
  const firehosePort = firehose.port;
  const forwarding = options.forwardWriteKeys;
  const segmentOptions = {
    host: '127.0.0.1',
    dataDir: resolve(options.segmentDataDir ?? '.data/segment'),
    writeKeys: [...parseForwardWriteKeys(forwarding).keys.values()],
    ...(options.segmentFaults === undefined ? {} : { faults: options.segmentFaults }),
    log: (line: string) => log(`[segment] ${line}`),
  };
  let segment =
    forwarding === undefined
      ? undefined
      : await createLocalSegment({ ...segmentOptions, port: options.segmentPort ?? 0 });
  const segmentPort = segment?.port;
  const port = options.port === undefined || options.port === 0 ? await freePort() : options.port;
  const inspectorPort = await freePort();
  const protocol = options.localProtocol ?? 'http';
  const vars: Record<string, string> = {
    WRITE_KEYS: options.writeKeys ?? SEED_WRITE_KEYS,
    FIREHOSE_STREAM: stream,
    FIREHOSE_ENDPOINT: firehose.url,
    AWS_REGION: LOCAL_CREDENTIALS.region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    ...(segment === undefined || forwarding === undefined
      ? {}
      : { FORWARD_ENDPOINT: `${segment.url}/v1/batch`, FORWARD_WRITE_KEYS: forwarding }),
    ...options.vars,
  };
  const args = [
    'wrangler',
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(inspectorPort),
    '--persist-to',
    persistTo,
    '--local-protocol',
    protocol,
    '--show-interactive-dev-session=false',
    ...(options.configPath === undefined ? [] : ['--config', options.configPath]),
    ...Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
  ];
  const inherit = options.inheritStdio ?? false;
  const child = spawn('npx', args, {
    stdio: inherit ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      // Keep wrangler dev offline: no update check, telemetry or request.cf download.
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      WRANGLER_SEND_METRICS: 'false',
      WRANGLER_HIDE_BANNER: 'true',
    },
    detached: process.platform !== 'win32',
  });
  const workerUrl = `${protocol}://127.0.0.1:${port}`;
  try {
    await waitForReady(child, log, inherit);
    await waitForHttp(`${workerUrl}/`);
  } catch (e) {
    child.kill('SIGTERM');
    await firehose.close();
    await segment?.close();
    throw e;
  }

  const stopChild = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
    // wrangler dev runs workerd as a grandchild: signal the whole process group.
    try {
      if (child.pid !== undefined && process.platform !== 'win32')
        process.kill(-child.pid, 'SIGTERM');
      else child.kill('SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
    const timeout = new Promise<void>((ok) => setTimeout(ok, 10_000));
    await Promise.race([exited, timeout]);
    if (child.exitCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  };

  const stack: Stack = {
    workerUrl,
    stream,
    get firehose() {
      return firehose;
    },
    get segment() {
      return segment;
    },
    async stop() {
      await stopChild();
      await firehose.close();
      await segment?.close();
    },
    async restartFirehose(downMs: number) {
      const faults = firehose.faults();
      await firehose.close();
      await new Promise((r) => setTimeout(r, downMs));
      firehose = await createLocalFirehose({ ...firehoseOptions, faults, port: firehosePort });
    },
    async restartSegment(downMs: number) {
      if (segment === undefined) throw new Error('the stack was started without forwarding');
      const faults = segment.faults();
      await segment.close();
      await new Promise((r) => setTimeout(r, downMs));
      segment = await createLocalSegment({ ...segmentOptions, faults, port: segmentPort ?? 0 });
    },
  };
  return stack;
}
