// Starts the bundled Workers on workerd through Miniflare directly (not `wrangler dev`, whose
// proxy costs ~3× here), with bindings derived from wrangler.toml by wrangler's own API so
// queues, Durable Objects, R2 and Analytics Engine bound later come along. Adapter.

import { readdirSync, readFileSync } from 'node:fs';
import { Log, LogLevel, Miniflare, type WorkerOptions } from 'miniflare';
import { unstable_getMiniflareWorkerOptions, type Unstable_MiniflareWorkerOptions } from 'wrangler';
import { WRANGLER_CONFIG } from './build';
import { BENCH_WRITE_KEYS } from './traffic';

export interface Runtime {
  name: string;
  url: URL;
  /** The workerd process serving it, for CPU accounting (undefined if not found). */
  pid: number | undefined;
  dispose: () => Promise<void>;
}

export interface WranglerWorker {
  /** wrangler.toml's bindings and settings, without the script. */
  options: Unstable_MiniflareWorkerOptions['workerOptions'];
  externalWorkers: WorkerOptions[];
  compatibilityDate: string;
  compatibilityFlags: string[];
}

export function wranglerWorker(): WranglerWorker {
  const { workerOptions, externalWorkers } = unstable_getMiniflareWorkerOptions(WRANGLER_CONFIG);
  return {
    options: workerOptions,
    externalWorkers,
    compatibilityDate: workerOptions.compatibilityDate ?? '2026-04-01',
    compatibilityFlags: workerOptions.compatibilityFlags ?? [],
  };
}

export interface OursOptions {
  /** Keep wrangler.toml's queue consumers (delivery runs too) or detach them (ingest only). */
  consumers: boolean;
  firehoseEndpoint: string;
  extraBindings?: Record<string, string>;
  /** Expose workerd's V8 inspector on this port (for profiling; off by default). */
  inspectorPort?: number;
}

/** workerd processes that are children of this Node process. */
function workerdChildren(): Set<number> {
  const found = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      if (comm === 'workerd' && ppid === process.pid) found.add(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

async function start(name: string, options: ConstructorParameters<typeof Miniflare>[0]) {
  const before = workerdChildren();
  const mf = new Miniflare(options);
  const url = await mf.ready;
  const started = [...workerdChildren()].filter((pid) => !before.has(pid));
  return {
    name,
    url,
    pid: started.length === 1 ? started[0] : undefined,
    dispose: () => mf.dispose(),
  } satisfies Runtime;
}

const SHARED = {
  host: '127.0.0.1',
  port: 0,
  // No request.cf download: Miniflare's built-in fallback object (it has a location).
  cf: false,
  log: new Log(LogLevel.WARN),
} as const;

/** Our bundle, with wrangler.toml's bindings and the bench's secrets. */
export async function startOurs(
  scriptPath: string,
  worker: WranglerWorker,
  opts: OursOptions,
  name = 'ours',
): Promise<Runtime> {
  // Static assets (analytics.js) are served by Cloudflare in front of the Worker, free and off the
  // Worker's CPU (Workers Static Assets pricing); Miniflare emulates that with a router Worker in
  // the same process, which would charge every ingest request an extra hop the platform does not.
  // The load and CPU runs leave it out; the e2e tests cover the assets under wrangler dev.
  const { assets: _assets, ...withoutAssets } = worker.options;
  const options: WorkerOptions = {
    ...withoutAssets,
    name,
    scriptPath,
    modules: true,
    bindings: {
      ...worker.options.bindings,
      ...opts.extraBindings,
      WRITE_KEYS: BENCH_WRITE_KEYS,
      // The consumer, when attached, signs for and posts to the loopback stub.
      FIREHOSE_ENDPOINT: opts.firehoseEndpoint,
      AWS_ACCESS_KEY_ID: 'AKIDBENCHEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'bench-secret-access-key',
    },
  };
  // Miniflare's local queue broker sets one timer per message and refuses sends past 10,000
  // pending timers, so under load an attached consumer turns into spurious 503s.
  if (!opts.consumers) options.queueConsumers = {};
  return start(name, {
    ...SHARED,
    ...(opts.inspectorPort === undefined ? {} : { inspectorPort: opts.inspectorPort }),
    workers: [options, ...worker.externalWorkers],
  });
}

export async function startPlain(
  name: string,
  scriptPath: string,
  worker: WranglerWorker,
  bindings: Record<string, string> = {},
): Promise<Runtime> {
  return start(name, {
    ...SHARED,
    name,
    scriptPath,
    modules: true,
    compatibilityDate: worker.compatibilityDate,
    compatibilityFlags: worker.compatibilityFlags,
    bindings,
  });
}

/**
 * The persisting floor, with wrangler.toml's EVENTS producer (the same local queue broker as
 * ours) and no consumer attached, as for ours under load.
 */
export async function startPersistFloor(
  scriptPath: string,
  worker: WranglerWorker,
  name = 'persisting floor',
  bindings: Record<string, string> = {},
): Promise<Runtime> {
  const events = (worker.options.queueProducers as Record<string, unknown> | undefined)?.['EVENTS'];
  if (events === undefined) throw new Error('wrangler.toml binds no EVENTS queue');
  return start(name, {
    ...SHARED,
    name,
    bindings,
    scriptPath,
    modules: true,
    compatibilityDate: worker.compatibilityDate,
    compatibilityFlags: worker.compatibilityFlags,
    queueProducers: { EVENTS: events } as unknown as WorkerOptions['queueProducers'],
  });
}

/** The CPU bench worker: ours's bindings (consumers detached) plus the fixtures. */
export async function startCpuWorker(
  scriptPath: string,
  worker: WranglerWorker,
  firehoseEndpoint: string,
  fixtures: string,
  inspectorPort?: number,
): Promise<Runtime> {
  return startOurs(
    scriptPath,
    worker,
    {
      consumers: false,
      firehoseEndpoint,
      ...(inspectorPort === undefined ? {} : { inspectorPort }),
      extraBindings: {
        BENCH_FIXTURES: fixtures,
        BENCH_QUEUE_BINDINGS: Object.keys(worker.options.queueProducers ?? {}).join(','),
        BENCH_ANALYTICS_BINDINGS: Object.keys(worker.options.analyticsEngineDatasets ?? {}).join(
          ',',
        ),
      },
    },
    'cpu',
  );
}

function statFields(path: string): string[] {
  const stat = readFileSync(path, 'utf8');
  // Fields after "pid (comm) "; `fields[0]` is field 3 of proc_pid_stat(5).
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

const ticksToMs = (ticks: number): number => (ticks * 1000) / CLOCK_TICKS_PER_SECOND;

/**
 * CPU time of the machine's process work (/proc/stat user + nice + system + steal), ms summed
 * over cores. Interrupt time is left out: loopback traffic's softirq work is charged to no
 * process, and would read as someone else's.
 */
export function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, user, nice, system, , , , , steal] = line.trim().split(/\s+/).map(Number);
  return ticksToMs((user ?? 0) + (nice ?? 0) + (system ?? 0) + (steal ?? 0));
}

/** CPU time of this bench: Node (with reaped children) and the live workerd processes. */
export function benchCpuMs(): number {
  const self = statFields('/proc/self/stat');
  let ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(self[i] ?? 0), 0);
  for (const pid of workerdChildren()) {
    try {
      const f = statFields(`/proc/${pid}/stat`);
      ticks += Number(f[11] ?? 0) + Number(f[12] ?? 0);
    } catch {
      // It exited meanwhile; its time moved to our cutime/cstime.
    }
  }
  return ticksToMs(ticks);
}

/** utime + stime of a process, in ms (Linux /proc, clock ticks of 10 ms). */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // utime and stime are fields 14 and 15 of proc_pid_stat(5).
    const fields = statFields(`/proc/${pid}/stat`);
    return ticksToMs(Number(fields[11]) + Number(fields[12]));
  } catch {
    return undefined;
  }
}

// sysconf(_SC_CLK_TCK) is 100 on every Linux Node supports.
const CLOCK_TICKS_PER_SECOND = 100;
