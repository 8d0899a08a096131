// CPU per event, measured inside workerd: the bench worker (bench/cpu/worker.ts) runs a case N
// times in one request. workerd's clocks stand still while JavaScript runs, so we measure from
// outside: the workerd process's utime + stime (/proc, 10 ms ticks) over the requests, less
// that of requests with N = 0 (the headline: other processes on the machine do not inflate
// it), and the wall time of the same requests, less that of N = 0 (a cross-check: the loop is
// single-threaded, so on an idle machine the two agree).

import { CPU_CASES, type CaseInfo, type CpuFixtures, type RunReply } from './cpu/cases';
import { median } from './load';
import { processCpuMs, type Runtime } from './runtime';

export interface CpuPlan {
  /** Wall time to aim for per measured loop, ms. */
  targetMs: number;
  /** Measured loops per main case and per stage. */
  repsMain: number;
  repsStage: number;
}

export interface CaseResult {
  name: string;
  group: CaseInfo['group'];
  label: string;
  events: number;
  /** Iterations per rep (over several requests of INVOCATION_MS each). */
  iterations: number;
  reps: number;
  /** The headline: the workerd process's CPU time when readable, else wall time (medians). */
  msPerIteration: number;
  usPerEvent: number;
  basis: 'process CPU' | 'wall';
  /** Wall time of the loops, timed from outside, less the N = 0 request (median over reps). */
  wallMsPerIteration: number;
  /** utime + stime of the workerd process over the loops, less the N = 0 request's. */
  procMsPerIteration: number | undefined;
  /** (max − min) / median of the headline over the reps. */
  spreadPct: number;
}

async function call(runtime: Runtime, name: string, n: number): Promise<RunReply> {
  const res = await fetch(new URL('/run', runtime.url), {
    method: 'POST',
    body: JSON.stringify({ name, n }),
  });
  const text = await res.text();
  let reply: RunReply;
  try {
    reply = JSON.parse(text) as RunReply;
  } catch {
    throw new Error(
      `CPU case ${name}: the bench worker answered ${res.status} ${text.slice(0, 300)}`,
    );
  }
  if (res.status !== 200 || reply.failures > 0) {
    throw new Error(
      `CPU case ${name}: ${reply.failures} of ${n} iterations failed (${reply.firstFailure ?? text})`,
    );
  }
  return reply;
}

async function timed(runtime: Runtime, name: string, n: number) {
  const cpu0 = processCpuMs(runtime.pid);
  const t0 = performance.now();
  await call(runtime, name, n);
  const wall = performance.now() - t0;
  const cpu1 = processCpuMs(runtime.pid);
  return { wall, cpu: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0 };
}

export function fixtureEvents(info: CaseInfo, fixtures: CpuFixtures): number {
  if (typeof info.events === 'number') return info.events;
  const messages =
    info.events === 'fixture:singles' ? fixtures.singlesMessages : fixtures.mixMessages;
  return messages.reduce((sum, body) => {
    const header = JSON.parse(body.slice(0, body.indexOf('\n'))) as { events: number };
    return sum + header.events;
  }, 0);
}

// One invocation's loop is kept short: workerd keeps objects bound to an invocation (requests,
// bodies, signed requests, pending crypto) until it ends, so a long loop grows the heap and
// slows down as it goes (measured: handler.batch100 700 µs at 500 iterations, 1,100 µs at
// 2,000; consumer.mix100 exhausts the isolate at 2,000). Each rep is several such loops.
const INVOCATION_MS = 40;
const MAX_ITERATIONS_PER_INVOCATION = 100_000;

export async function runCpu(
  runtime: Runtime,
  fixtures: CpuFixtures,
  plan: CpuPlan,
  log: (line: string) => void,
): Promise<CaseResult[]> {
  // The first request builds the cases; later N = 0 requests are the fixed cost we subtract.
  await call(runtime, 'stage.parse.track', 0);
  const zero: number[] = [];
  let zeroCpu: number | undefined = 0;
  const ZERO_REQUESTS = 40;
  for (let i = 0; i < ZERO_REQUESTS; i++) {
    const t = await timed(runtime, 'stage.parse.track', 0);
    zero.push(t.wall);
    zeroCpu = zeroCpu === undefined || t.cpu === undefined ? undefined : zeroCpu + t.cpu;
  }
  const overheadMs = median(zero);
  // Process CPU comes in 10 ms ticks: the per-request overhead is the mean over many.
  const overheadCpuMs = zeroCpu === undefined ? undefined : zeroCpu / ZERO_REQUESTS;

  const results: CaseResult[] = [];
  for (const info of CPU_CASES) {
    // Warm the case up (first calls compile and allocate), then size one request's loop: grow
    // a pilot until it runs long enough to extrapolate from, taking the faster of two runs at
    // each size since a pause only ever adds time.
    for (let i = 0; i < 3; i++) await timed(runtime, info.name, 2);
    const pilotAt = async (size: number): Promise<number> =>
      Math.min(
        (await timed(runtime, info.name, size)).wall,
        (await timed(runtime, info.name, size)).wall,
      );
    let n = 2;
    let pilot = await pilotAt(n);
    while (pilot < INVOCATION_MS / 4 && n < MAX_ITERATIONS_PER_INVOCATION) {
      n *= 4;
      pilot = await pilotAt(n);
    }
    let perInvocation = Math.min(
      MAX_ITERATIONS_PER_INVOCATION,
      Math.max(1, Math.round((INVOCATION_MS * n) / Math.max(pilot - overheadMs, 0.001))),
    );
    // Check the extrapolation: too short a loop would drown in the 10 ms CPU ticks.
    while (
      perInvocation < MAX_ITERATIONS_PER_INVOCATION &&
      (await pilotAt(perInvocation)) < INVOCATION_MS / 2
    ) {
      perInvocation = Math.min(MAX_ITERATIONS_PER_INVOCATION, perInvocation * 2);
    }
    const invocations = Math.max(1, Math.round(plan.targetMs / INVOCATION_MS));
    const reps = info.main ? plan.repsMain : plan.repsStage;
    const walls: number[] = [];
    const cpus: number[] = [];
    for (let r = 0; r < reps; r++) {
      let wall = 0;
      let cpu: number | undefined = 0;
      for (let k = 0; k < invocations; k++) {
        const t = await timed(runtime, info.name, perInvocation);
        wall += t.wall - overheadMs;
        cpu =
          cpu === undefined || t.cpu === undefined || overheadCpuMs === undefined
            ? undefined
            : cpu + t.cpu - overheadCpuMs;
      }
      walls.push(wall / (invocations * perInvocation));
      if (cpu !== undefined) cpus.push(cpu / (invocations * perInvocation));
    }
    // Process CPU is the headline when every rep could read it and it is plausible.
    const proc = cpus.length === reps && median(cpus) > 0 ? median(cpus) : undefined;
    const headline = proc === undefined ? walls : cpus;
    const ms = median(headline);
    const events = fixtureEvents(info, fixtures);
    results.push({
      name: info.name,
      group: info.group,
      label: info.label,
      events,
      iterations: invocations * perInvocation,
      reps,
      msPerIteration: ms,
      usPerEvent: (ms * 1000) / events,
      basis: proc === undefined ? 'wall' : 'process CPU',
      wallMsPerIteration: median(walls),
      procMsPerIteration: proc,
      spreadPct: ((Math.max(...headline) - Math.min(...headline)) / ms) * 100,
    });
    log(
      `  ${info.name}: ${(ms * 1000).toFixed(1)} µs/iteration ` +
        `(${reps} reps × ${invocations} requests × ${perInvocation})`,
    );
  }
  return results;
}
