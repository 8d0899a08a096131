// `npm start` as people, systemd, Docker and IDEs run it: real processes on free ports. Its
// settings reach the Worker, the banner's key and token work, a signal to npm's own PID (and
// nothing else) ends every process it started, and a taken port is one line of advice.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ENVIRONMENT_VARS } from '../../scripts/dev/config';
import { freePort } from '../../scripts/stack';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Ours: npm start answers in ~3 s here; a loaded machine may take several times that.
const START_TIMEOUT_MS = 60_000;
// The requirement: every process gone within 5 s of the signal.
const STOP_LIMIT_MS = 5_000;

interface Proc {
  pid: number;
  ppid: number;
  /** One letter, as in ps: Z is a zombie, dead and only waiting to be reaped. */
  state: string;
  /** Clock ticks after boot it started: with the PID, names it even if the PID is reused. */
  start: string;
}

/** A process, named so that another one given the same PID later is not mistaken for it. */
type Id = `${number}@${string}`;
const idOf = (p: Proc): Id => `${p.pid}@${p.start}`;
const pidOf = (id: Id): number => Number(id.slice(0, id.indexOf('@')));

/** Every process on the machine, from /proc (Linux). */
async function processes(): Promise<Proc[]> {
  const out: Proc[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = await readFile(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // Gone meanwhile.
    }
    // pid (comm) state ppid … starttime (field 22) …; comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [state = '', ppid = '0'] = fields;
    out.push({ pid: Number(name), ppid: Number(ppid), state, start: fields[19] ?? '' });
  }
  return out;
}

/** `root` and every process below it. */
async function tree(root: number): Promise<Id[]> {
  const all = await processes();
  const top = all.find((p) => p.pid === root);
  if (top === undefined) return [];
  const found = [top];
  for (let i = 0; i < found.length; i++) {
    for (const p of all) if (p.ppid === found[i]?.pid) found.push(p);
  }
  return found.map(idOf);
}

/** Those still running: present (the same process, not a reused PID) and not a zombie. */
async function running(ids: readonly Id[]): Promise<Id[]> {
  const live = new Set((await processes()).filter((p) => p.state !== 'Z').map(idOf));
  return ids.filter((id) => live.has(id));
}

async function commandLine(pid: number): Promise<string> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const server = createServer();
    server.once('error', () => ok(false));
    server.listen(port, '127.0.0.1', () => server.close(() => ok(true)));
  });
}

function holdPort(port: number): Promise<Server> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok(server));
  });
}

interface Started {
  child: ChildProcessByStdio<null, Readable, Readable>;
  port: number;
  firehosePort: number;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** `npm start [-- args]` with free ports, its data in a temporary directory. */
async function npmStart(env: Record<string, string> = {}, args: string[] = []): Promise<Started> {
  const port = Number(env['PORT'] ?? (await freePort()));
  const firehosePort = Number(env['FIREHOSE_PORT'] ?? (await freePort()));
  const dataDir = await mkdtemp(join(tmpdir(), 'ndc-npm-start-'));
  const base = { ...process.env };
  // A developer's own settings must not change what this test sees.
  for (const name of ENVIRONMENT_VARS) delete base[name];
  const child = spawn('npm', ['start', ...(args.length > 0 ? ['--', ...args] : [])], {
    cwd: ROOT,
    env: {
      ...base,
      DATA_DIR: dataDir,
      ...env,
      PORT: String(port),
      FIREHOSE_PORT: String(firehosePort),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  const seen = new Set<Id>();
  cleanups.push(async () => {
    // Only after a failed assertion is anything still running: kill exactly what this test
    // started.
    for (const id of await running([...seen])) process.kill(pidOf(id), 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });
  // Recorded as it grows, so a failure mid-start still cleans up everything.
  const record = setInterval(() => {
    if (child.pid === undefined) return;
    void tree(child.pid).then((ids) => ids.forEach((id) => seen.add(id)));
  }, 200);
  cleanups.push(async () => clearInterval(record));
  return { child, port, firehosePort, stdout: () => out, stderr: () => err, exited };
}

/** Waits for the banner's last line; fails with the output if npm start exits first. */
async function bannerOf(s: Started): Promise<string> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (/^Admin: .*\n/m.test(s.stdout())) return s.stdout();
    if (s.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`npm start did not come up:\n${s.stdout()}\n${s.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Signals npm's own PID only; resolves with how long until no process of the tree runs. */
async function stopAndMeasure(s: Started, signal: NodeJS.Signals): Promise<number> {
  const pid = s.child.pid ?? -1;
  const ids = await tree(pid);
  const commands = await Promise.all(ids.map((id) => commandLine(pidOf(id))));
  // The whole chain is there: npm, node, the guard, wrangler's two nodes, workerd.
  expect(commands.filter((c) => c.includes('workerd serve'))).toHaveLength(2);
  expect(commands.some((c) => c.includes('wrangler-dist/cli.js dev'))).toBe(true);
  const started = Date.now();
  process.kill(pid, signal);
  for (;;) {
    const left = await running(ids);
    if (left.length === 0) return Date.now() - started;
    if (Date.now() - started > STOP_LIMIT_MS) {
      const names = await Promise.all(left.map(async (id) => commandLine(pidOf(id))));
      throw new Error(`still running ${STOP_LIMIT_MS} ms after ${signal}:\n${names.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function basic(key: string): string {
  return `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
}

describe('npm start', () => {
  it(
    'passes settings from the environment and --var, and stops everything on SIGTERM',
    async () => {
      const s = await npmStart(
        { WRITE_KEYS: 'first-key=web,second-key', METRICS_TOKEN: 'env-metrics' },
        ['--var', 'ADMIN_TOKEN:arg-admin', '--var', 'METRICS_TOKEN:arg-metrics'],
      );
      const text = await bannerOf(s);
      const url = `http://127.0.0.1:${s.port}`;
      expect(text).toContain(`collector       ${url}  write key first-key`);
      expect(text).toContain('admin token     arg-admin  (ADMIN_TOKEN)');
      expect(text).toContain(`POST http://127.0.0.1:${s.firehosePort}/_local/faults`);

      const track = await fetch(`${url}/v1/track`, {
        method: 'POST',
        headers: { Authorization: basic('first-key'), 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'track', event: 'E', anonymousId: 'a' }),
      });
      expect(track.status).toBe(200);
      const seedKey = await fetch(`${url}/v1/track`, {
        method: 'POST',
        headers: { Authorization: basic('8GT90rhOugcEGAqdcBWP8muss7iSwwHy') },
        body: '{}',
      });
      expect(seedKey.status).toBe(401);
      const admin = await fetch(`${url}/admin/dead-letters`, {
        headers: { Authorization: 'Bearer arg-admin' },
      });
      expect(admin.status).toBe(200);
      // --var wins over the environment.
      const metrics = (token: string): Promise<Response> =>
        fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
      expect((await metrics('env-metrics')).status).toBe(401);
      expect((await metrics('arg-metrics')).status).toBe(200);

      const ms = await stopAndMeasure(s, 'SIGTERM');
      expect(ms).toBeLessThan(STOP_LIMIT_MS);
      expect(await portIsFree(s.port)).toBe(true);
      expect(await portIsFree(s.firehosePort)).toBe(true);
    },
    START_TIMEOUT_MS + 20_000,
  );

  it(
    'prints a generated admin token that works, and stops everything on SIGINT',
    async () => {
      const s = await npmStart();
      const text = await bannerOf(s);
      const token = /admin token {5}(\S+) {2}\(generated/.exec(text)?.[1];
      expect(token).toMatch(/^[\w-]{20,}$/);
      const url = `http://127.0.0.1:${s.port}`;
      const admin = await fetch(`${url}/admin/dead-letters`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(admin.status).toBe(200);
      expect(text).toContain('write key 8GT90rhOugcEGAqdcBWP8muss7iSwwHy');

      expect(await stopAndMeasure(s, 'SIGINT')).toBeLessThan(STOP_LIMIT_MS);
      expect(await portIsFree(s.port)).toBe(true);
      expect(await portIsFree(s.firehosePort)).toBe(true);
    },
    START_TIMEOUT_MS + 20_000,
  );

  it(
    'leaves nothing behind when its node process is killed outright',
    async () => {
      const s = await npmStart();
      await bannerOf(s);
      const ids = await tree(s.child.pid ?? -1);
      // npm's child: the node process running scripts/dev.ts (the start script execs it).
      const node = pidOf(ids[1] ?? '0@');
      expect(await commandLine(node)).toContain('scripts/dev.ts');
      process.kill(node, 'SIGKILL');
      const started = Date.now();
      while ((await running(ids)).length > 0) {
        expect(Date.now() - started).toBeLessThan(STOP_LIMIT_MS);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await portIsFree(s.port)).toBe(true);
    },
    START_TIMEOUT_MS + 20_000,
  );

  it.each([
    ['PORT', 'PORT'],
    ['FIREHOSE_PORT', 'FIREHOSE_PORT'],
  ])(
    'answers a taken %s with one line naming %s',
    async (variable) => {
      const taken = await freePort();
      const holder = await holdPort(taken);
      cleanups.push(() => new Promise((ok) => holder.close(() => ok())));
      const s = await npmStart({ [variable]: String(taken) });
      expect(await s.exited).toBe(1);
      const lines = s
        .stderr()
        .split('\n')
        .filter((l) => l.trim() !== '');
      expect(lines).toEqual([
        `npm start: port ${taken} is already in use: set ${variable} to a free one, e.g. ${variable}=${taken + 1} npm start`,
      ]);
      // Nothing but npm's own header on stdout: no stack trace, no wrangler --port advice.
      expect(s.stdout()).not.toMatch(/\bat |--port|Error/);
    },
    30_000,
  );
});
