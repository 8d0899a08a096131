// Ingest throughput: autocannon against ours and the bare-Hono floor on the same workerd, in
// the same run, on 127.0.0.1. Runs alternate between the two so drift on a 2-core machine
// (where the load generator shares the cores) hits both alike.

import autocannon, { type Result as AutocannonResult } from 'autocannon';
import type { Runtime } from './runtime';

export interface Route {
  name: 'track' | 'batch100';
  path: string;
  body: string;
  events: number;
}

export interface LoadPlan {
  connections: readonly number[];
  rounds: number;
  /** Seconds per measured run. */
  seconds: number;
  /** Seconds of warm-up per worker and route before anything is measured. */
  warmupSeconds: number;
}

export interface RunResult {
  variant: string;
  route: Route['name'];
  connections: number;
  round: number;
  rps: number;
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
}

export interface CellSummary {
  route: Route['name'];
  connections: number;
  variant: string;
  /** Medians over the rounds. */
  rps: number;
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  roundsRps: number[];
}

export interface CellRatio {
  variant: string;
  /** The floor it is measured against: the bare one, or the persisting one. */
  reference: string;
  route: Route['name'];
  connections: number;
  /** median(variant) / median(reference) request rate. */
  ratio: number;
  /** variant / reference paired within each round. */
  perRound: number[];
}

export interface LoadResults {
  order: string;
  runs: RunResult[];
  cells: CellSummary[];
  ratios: CellRatio[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

async function hit(
  runtime: Runtime,
  route: Route,
  connections: number,
  seconds: number,
): Promise<AutocannonResult> {
  return autocannon({
    url: new URL(route.path, runtime.url).href,
    method: 'POST',
    body: route.body,
    headers: { 'content-type': 'application/json' },
    connections,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
  });
}

/** One request per route and worker before any load: a wrong answer stops the bench here. */
export async function preflight(runtime: Runtime, route: Route, expectAccepted: boolean) {
  const res = await fetch(new URL(route.path, runtime.url), {
    method: 'POST',
    body: route.body,
    headers: { 'content-type': 'application/json' },
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const body = typeof parsed === 'object' && parsed !== null ? parsed : {};
  const success = 'success' in body && body.success === true;
  const accepted = 'accepted' in body ? body.accepted : 1;
  if (res.status !== 200 || !success || (expectAccepted && accepted !== route.events)) {
    throw new Error(
      `${runtime.name} ${route.path} answered ${res.status} ${text.slice(0, 300)}; expected 200 success` +
        (expectAccepted ? ` with ${route.events} accepted` : ''),
    );
  }
}

export async function runLoad(
  variants: readonly Runtime[],
  routes: readonly Route[],
  plan: LoadPlan,
  log: (line: string) => void,
  /** The variants the others are measured against (the floors). */
  references: readonly string[] = [variants[0]?.name ?? ''],
): Promise<LoadResults> {
  for (const runtime of variants) {
    for (const route of routes) {
      await hit(runtime, route, Math.min(...plan.connections), plan.warmupSeconds);
    }
  }
  const runs: RunResult[] = [];
  const cells = routes.flatMap((route) => plan.connections.map((c) => ({ route, c })));
  for (let round = 0; round < plan.rounds; round++) {
    for (const [i, { route, c }] of cells.entries()) {
      // Who goes first rotates by round and by cell, so each worker takes each slot alike.
      const k = (round + i) % variants.length;
      const order = [...variants.slice(k), ...variants.slice(0, k)];
      for (const runtime of order) {
        const r = await hit(runtime, route, c, plan.seconds);
        const rps = r['2xx'] / r.duration;
        const run: RunResult = {
          variant: runtime.name,
          route: route.name,
          connections: c,
          round,
          rps,
          eventsPerSecond: rps * route.events,
          p50Ms: r.latency.p50,
          p99Ms: r.latency.p99,
          ok: r['2xx'],
          non2xx: r.non2xx,
          errors: r.errors,
          timeouts: r.timeouts,
          seconds: r.duration,
        };
        runs.push(run);
        log(
          `  round ${round + 1}/${plan.rounds} ${route.name} c=${c} ${runtime.name}: ` +
            `${rps.toFixed(0)} req/s, p99 ${r.latency.p99} ms` +
            (r.non2xx + r.errors + r.timeouts > 0
              ? `, ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`
              : ''),
        );
      }
    }
  }

  const summaries: CellSummary[] = [];
  const ratios: CellRatio[] = [];
  for (const { route, c } of cells) {
    for (const runtime of variants) {
      const mine = runs.filter(
        (r) => r.variant === runtime.name && r.route === route.name && r.connections === c,
      );
      summaries.push({
        route: route.name,
        connections: c,
        variant: runtime.name,
        rps: median(mine.map((r) => r.rps)),
        eventsPerSecond: median(mine.map((r) => r.eventsPerSecond)),
        p50Ms: median(mine.map((r) => r.p50Ms)),
        p99Ms: median(mine.map((r) => r.p99Ms)),
        non2xx: mine.reduce((s, r) => s + r.non2xx, 0),
        errors: mine.reduce((s, r) => s + r.errors + r.timeouts, 0),
        roundsRps: mine.map((r) => r.rps),
      });
    }
    const of = (name: string | undefined) =>
      summaries.find((s) => s.variant === name && s.route === route.name && s.connections === c);
    for (const reference of references) {
      const floor = of(reference);
      for (const runtime of variants) {
        if (references.includes(runtime.name)) continue;
        const ours = of(runtime.name);
        if (floor === undefined || ours === undefined) continue;
        ratios.push({
          variant: runtime.name,
          reference,
          route: route.name,
          connections: c,
          ratio: ours.rps / floor.rps,
          perRound: ours.roundsRps.map((rps, k) => rps / (floor.roundsRps[k] ?? NaN)),
        });
      }
    }
  }
  const order =
    `${plan.rounds} round(s) × ${cells.length} cells (route × connections), ${plan.seconds} s per run, ` +
    `after ${plan.warmupSeconds} s warm-up per worker and route; in each cell the ${variants.length} workers run ` +
    'back to back and their order rotates by round and cell; figures are medians over rounds.';
  return { order, runs, cells: summaries, ratios };
}
