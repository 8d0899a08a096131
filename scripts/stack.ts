// The whole collector on loopback: the local Firehose endpoint (in this process) and the
// Worker under `wrangler dev` (its local queues, DLQ consumer and R2), wired together; with
// forwarding, a local Segment-compatible endpoint (in this process) as FORWARD_ENDPOINT.
// `npm start` runs it for people; the e2e tests run it for assertions.
//
// wrangler runs from its own bin under a guard process (process/guard.ts): stopping the stack,
// or this process dying however it dies, ends wrangler and every workerd it started.
import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { syncAnalyticsJsAssets } from './analytics-js-assets';
import { parseForwardWriteKeys } from '../src/forward/settings';
import { createLocalFirehose, type LocalFirehose } from './local-firehose/server';
import type { Faults } from './local-firehose/faults';
import { spawnGuarded, type Guarded } from './process/spawn-guarded';
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
// Ours: wrangler dev and its workerd stop within ~0.5 s of SIGTERM here; whatever is left
// after this is killed, so a stop never takes longer than a few seconds.
const WRANGLER_STOP_GRACE_MS = 2_500;

// wrangler's own bin (what `npx wrangler` ends up running), started with this node: no npx or
// shell in between to swallow signals.
const WRANGLER_BIN = (() => {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('wrangler/package.json');
  const { bin } = require('wrangler/package.json') as { bin: Record<string, string> };
  return join(dirname(manifest), bin['wrangler'] ?? 'bin/wrangler.js');
})();

/** A port the stack needs is taken; `role` says which one. */
// Ours: tries at a port picked free before giving up (each failure is a rare race).
const AUTO_PORT_ATTEMPTS = 3;

export class PortInUseError extends Error {
  constructor(
    readonly role: 'worker' | 'firehose' | 'segment',
    readonly port: number,
  ) {
    super(`port ${port} (${role}) is already in use`);
    this.name = 'PortInUseError';
  }
}

export interface StackOptions {
  /** Worker port; 0 picks a free one. */
  port?: number;
  /** How a free port is picked when `port` is 0 (default: one the OS hands out); for tests. */
  pickPort?: () => Promise<number>;
  /** Local Firehose port; 0 picks a free one. */
  firehosePort?: number;
  /** Where the local Firehose writes (default .data/firehose). */
  dataDir?: string;
  /** Where wrangler dev keeps queues and R2 (default .data/wrangler). */
  persistTo?: string;
  /** wrangler's config file, passed as `--config` (default: wrangler's own lookup). */
  configPath?: string;
  /**
   * Whether wrangler dev reads .dev.vars (or .env) beside the config, as it does by default.
   * false: the Worker gets wrangler.toml's [vars] and `vars` only.
   */
  devVars?: boolean;
  /** Where wrangler writes its debug logs (default $WRANGLER_LOG_PATH, else .data/logs). */
  logDir?: string;
  stream?: string;
  writeKeys?: string;
  /** More regions the local Firehose accepts signatures for (FIREHOSE_ROUTES' regions). */
  firehoseRegions?: readonly string[];
  faults?: Partial<Faults>;
  /** The local Firehose lists calls answered this long after they were signed as late too. */
  firehoseSlowAnswerMs?: number;
  /** Extra `--var NAME:value` pairs for the Worker. */
  vars?: Record<string, string>;
  /** Lines from wrangler and the endpoint; default: dropped. */
  log?: (line: string) => void;
  /** Inherit wrangler's stdio instead of capturing it (interactive use). */
  inheritStdio?: boolean;
  /** `https` serves the Worker with wrangler's self-signed certificate (default `http`). */
  localProtocol?: 'http' | 'https';
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
  /** Stops wrangler dev (and every process it started) and the local endpoint. */
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

/** Whether nothing listens on 127.0.0.1:`port` (where wrangler dev will listen). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const server = createServer();
    server.once('error', () => ok(false));
    server.listen(port, '127.0.0.1', () => server.close(() => ok(true)));
  });
}

function isAddressInUse(e: unknown): boolean {
  return e instanceof Error && (e as NodeJS.ErrnoException).code === 'EADDRINUSE';
}

// workerd's bind failure, as wrangler dev reports it; the port is on the same line.
const ADDRESS_IN_USE = /Address already in use \((?:[\d.]+|\[[\da-f:]+\]):(\d+)\)/;

function waitForReady(
  child: ChildProcess,
  exited: Promise<number | null>,
  port: number,
  log: (line: string) => void,
  inherit: boolean,
): Promise<void> {
  return new Promise((ok, fail) => {
    let inUse = false;
    const timer = setTimeout(
      () => fail(new Error('wrangler dev did not become ready')),
      WRANGLER_READY_TIMEOUT_MS,
    );
    const done = (error?: Error): void => {
      clearTimeout(timer);
      if (error) fail(error);
      else ok();
    };
    void exited.then((code) =>
      done(
        inUse ? new PortInUseError('worker', port) : new Error(`wrangler dev exited with ${code}`),
      ),
    );
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
        if (ADDRESS_IN_USE.exec(line)?.[1] === String(port)) inUse = true;
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
  const logDir = resolve(options.logDir ?? process.env['WRANGLER_LOG_PATH'] ?? '.data/logs');
  await mkdir(dataDir, { recursive: true });
  // wrangler dev runs the same copy ([build] in wrangler.toml), but settles on its assets
  // directory before that build has run: on a clean clone the first start could lack them.
  await syncAnalyticsJsAssets();
  const stream = options.stream ?? 'ndc-segment';
  const firehoseOptions = {
    host: '127.0.0.1',
    dataDir,
    ...LOCAL_CREDENTIALS,
    ...(options.firehoseRegions === undefined ? {} : { regions: options.firehoseRegions }),
    ...(options.faults === undefined ? {} : { faults: options.faults }),
    ...(options.firehoseSlowAnswerMs === undefined
      ? {}
      : { slowAnswerMs: options.firehoseSlowAnswerMs }),
    log: (line: string) => log(`[firehose] ${line}`),
  };
  const wantedFirehosePort = options.firehosePort ?? 0;
  let firehose: LocalFirehose;
  try {
    firehose = await createLocalFirehose({ ...firehoseOptions, port: wantedFirehosePort });
  } catch (e) {
    throw isAddressInUse(e) ? new PortInUseError('firehose', wantedFirehosePort) : e;
  }
  const firehosePort = firehose.port;
  const forwarding = options.forwardWriteKeys;
  const segmentOptions = {
    host: '127.0.0.1',
    dataDir: resolve(options.segmentDataDir ?? '.data/segment'),
    writeKeys: [...parseForwardWriteKeys(forwarding).keys.values()],
    ...(options.segmentFaults === undefined ? {} : { faults: options.segmentFaults }),
    log: (line: string) => log(`[segment] ${line}`),
  };
  let segment: LocalSegment | undefined;
  if (forwarding !== undefined) {
    const wantedSegmentPort = options.segmentPort ?? 0;
    try {
      segment = await createLocalSegment({ ...segmentOptions, port: wantedSegmentPort });
    } catch (e) {
      await firehose.close();
      throw isAddressInUse(e) ? new PortInUseError('segment', wantedSegmentPort) : e;
    }
  }
  const segmentPort = segment?.port;
  const autoPort = options.port === undefined || options.port === 0;
  const protocol = options.localProtocol ?? 'http';
  // Given an env file, wrangler skips .dev.vars, and with CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV
  // false (below) it gives the Worker nothing from env files either. The file must exist and
  // be empty: Node 20 also reads an --env-file it finds among a script's arguments.
  let noDevVars: string | undefined;
  if (options.devVars === false) {
    noDevVars = join(persistTo, 'no-dev-vars.env');
    await mkdir(persistTo, { recursive: true });
    await writeFile(noDevVars, '');
  }
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
  const inherit = options.inheritStdio ?? false;

  /** wrangler dev on `port`, answering; throws PortInUseError when the port was taken. */
  const launch = async (port: number): Promise<{ wrangler: Guarded; workerUrl: string }> => {
    if (!(await portIsFree(port))) throw new PortInUseError('worker', port);
    const inspectorPort = await freePort();
    const args = [
      'dev',
      ...(options.configPath === undefined ? [] : ['--config', resolve(options.configPath)]),
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
      ...(noDevVars === undefined ? [] : ['--env-file', noDevVars]),
      ...Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
    ];
    const wrangler = spawnGuarded(process.execPath, [WRANGLER_BIN, ...args], {
      capture: !inherit,
      graceMs: WRANGLER_STOP_GRACE_MS,
      env: {
        ...process.env,
        // Keep wrangler dev offline: no update check, telemetry or request.cf download.
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        WRANGLER_SEND_METRICS: 'false',
        WRANGLER_HIDE_BANNER: 'true',
        WRANGLER_LOG_PATH: logDir,
        ...(options.devVars === false ? { CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: 'false' } : {}),
      },
    });
    const workerUrl = `${protocol}://127.0.0.1:${port}`;
    try {
      await waitForReady(wrangler.child, wrangler.exited, port, log, inherit);
      await waitForHttp(`${workerUrl}/`);
    } catch (e) {
      await wrangler.stop();
      throw e;
    }
    return { wrangler, workerUrl };
  };

  // A port picked free can be taken before workerd binds it (wrangler dev opens ports of its
  // own meanwhile): a picked port is picked again; a port asked for is an error at once.
  let launched: { wrangler: Guarded; workerUrl: string } | undefined;
  for (let attempt = 1; launched === undefined; attempt++) {
    try {
      const pick = options.pickPort ?? freePort;
      launched = await launch(autoPort ? await pick() : (options.port ?? 0));
    } catch (e) {
      if (autoPort && e instanceof PortInUseError && attempt < AUTO_PORT_ATTEMPTS) continue;
      await firehose.close();
      await segment?.close();
      throw e;
    }
  }
  const { wrangler, workerUrl } = launched;

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
      await wrangler.stop();
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
