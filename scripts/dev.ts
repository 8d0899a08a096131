// `npm start`: the collector locally end to end — the Worker under `wrangler dev` (offline,
// with its local queues and R2) delivering to a local Firehose endpoint that writes what it
// accepts to .data/firehose/<stream>/YYYY/MM/DD/HH/*.ndjson. Settings come from
// `--var NAME:value`, the environment and .dev.vars (scripts/dev/config.ts); PORT,
// FIREHOSE_PORT and DATA_DIR choose the ports and where files go. docs/local-development.md
// is the user's guide.
//
// Stopping: SIGINT, SIGTERM or SIGHUP to this process (npm forwards them: the start script
// execs node, so no shell sits in between) stops wrangler and every process it started, then
// exits; so does the death of the parent (npm killed with SIGKILL). If this process itself is
// killed abruptly, the guard process (scripts/process/guard.ts) still ends wrangler.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { banner } from './dev/banner';
import { resolveDevConfig, USAGE } from './dev/config';
import { SESSION_FILE } from './events/select';
import { PortInUseError, startStack, type Stack } from './stack';

// Ours: the stack stops in about a second here; past this, exit anyway (the guard process
// still ends wrangler's group when our end of its stdin closes).
const STOP_DEADLINE_MS = 4_000;
// How often to check that the parent (npm) is still there.
const PARENT_POLL_MS = 250;
// 144 bits: a local admin token nobody guesses.
const ADMIN_TOKEN_BYTES = 18;

/** .dev.vars' entries, as wrangler dev reads the file; undefined when there is none. */
async function readDevVars(): Promise<Record<string, string> | undefined> {
  let text: string;
  try {
    text = await readFile('.dev.vars', 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (value !== undefined) vars[name] = value;
  }
  return vars;
}

function fail(message: string, code: number): never {
  process.stderr.write(`npm start: ${message}\n`);
  process.exit(code);
}

function portAdvice(e: PortInUseError): string {
  const name = { worker: 'PORT', firehose: 'FIREHOSE_PORT', segment: 'SEGMENT_PORT' }[e.role];
  return `port ${e.port} is already in use: set ${name} to a free one, e.g. ${name}=${e.port + 1} npm start`;
}

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const resolved = resolveDevConfig({
  env: process.env,
  argv,
  devVars: await readDevVars(),
  newToken: () => randomBytes(ADMIN_TOKEN_BYTES).toString('base64url'),
});
if (!resolved.ok) fail(resolved.error, 2);
const config = resolved.value;
for (const line of config.ignored) console.log(`ignored ${line}`);

let stack: Stack | undefined;
let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(1), STOP_DEADLINE_MS).unref();
  void (stack?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
// npm killed outright cannot forward a signal: this process is then adopted by another.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop();
}, PARENT_POLL_MS).unref();

// When this session started, for `npm run events` (scripts/events.ts): it prints what was
// delivered since, not what earlier sessions left in the same data directory.
await mkdir(config.dataDir, { recursive: true });
await writeFile(
  join(config.dataDir, SESSION_FILE),
  `${JSON.stringify({ startedAt: new Date().toISOString() })}\n`,
);

// wrangler's startup lines (its bindings table, "Ready on") are held back: the banner says it
// better, and on a failure only what explains it is printed.
let ready = false;
const early: string[] = [];
try {
  stack = await startStack({
    port: config.port,
    firehosePort: config.firehosePort,
    dataDir: join(config.dataDir, 'firehose'),
    persistTo: join(config.dataDir, 'wrangler'),
    logDir: process.env['WRANGLER_LOG_PATH'] ?? join(config.dataDir, 'logs'),
    stream: config.stream,
    writeKeys: config.writeKeys,
    vars: config.vars,
    // Read above, with the environment and --var: wrangler must not read it again.
    devVars: false,
    ...(config.forwardWriteKeys === undefined
      ? {}
      : {
          forwardWriteKeys: config.forwardWriteKeys,
          segmentPort: config.segmentPort,
          segmentDataDir: join(config.dataDir, 'segment'),
        }),
    log: (line) => (ready ? console.log(line) : early.push(line)),
  });
} catch (e) {
  if (stopping) process.exit(0);
  if (e instanceof PortInUseError) fail(portAdvice(e), 1);
  for (const line of early) console.log(line);
  fail(e instanceof Error ? e.message : String(e), 1);
}
ready = true;
for (const line of early) if (/\b(WARNING|ERROR)\b/.test(line)) console.log(line);

console.log(
  banner({
    workerUrl: stack.workerUrl,
    firehoseUrl: stack.firehose.url,
    stream: stack.stream,
    dataDir: join(config.dataDir, 'firehose'),
    writeKey: config.writeKey,
    adminToken: config.adminToken,
    adminTokenGenerated: config.adminTokenGenerated,
    metricsToken: config.metricsToken,
    firehoseEndpoint: config.firehoseEndpoint,
    forwardTo:
      stack.segment !== undefined
        ? { url: `${stack.segment.url}/v1/batch`, dataDir: join(config.dataDir, 'segment') }
        : config.forwardEndpoint === undefined
          ? undefined
          : { url: config.forwardEndpoint },
  }),
);
