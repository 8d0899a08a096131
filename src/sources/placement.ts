// Where each source's events and what is derived from them go, from FIREHOSE_ROUTES
// (routes.ts) and the bindings env has: its events queues, Firehose region and streams, the
// jurisdiction of its dedupe shards and debugger object, and its archive bucket. Adapter: the one
// place that looks the bindings a route names up in env, once per env object (an isolate's env
// is one object), so a route naming a binding that does not exist is an error at the first
// request that needs the placement, naming it; never a silent fallback to the defaults.

import type { Env } from '../env';
import { eventsQueues, isQueue, type EventsQueue } from '../queue/producer';
import { parseStreams } from '../firehose/pack';
import { err, ok, type Result } from '../segment/types';
import { parseRoutes, type Jurisdiction, type Routes, type SourceRoute } from './routes';

/** The Firehose side of a source: where its calls are signed for and which streams take them. */
export interface FirehoseRoute {
  /** SigV4 region, and the endpoint's unless FIREHOSE_ENDPOINT overrides it. */
  region: string;
  streams: readonly string[];
}

export interface Archive {
  /** The binding's name: ARCHIVE, or a route's `archive`. */
  name: string;
  bucket: R2Bucket;
}

export interface Placement {
  routes: Routes;
  /** The events queues of a source: its route's `queues`, else the bound ones no route names. */
  queuesFor(source: string): EventsQueue[];
  /** Every events queue bound and used, the routes' included (backlog metrics). */
  allQueues(): EventsQueue[];
  /** Its route's region and streams, else AWS_REGION and FIREHOSE_STREAM. */
  firehoseFor(source: string): FirehoseRoute;
  jurisdictionOf(source: string): Jurisdiction | undefined;
  /** DEDUPE narrowed to a jurisdiction (undefined: the unrestricted namespace). */
  dedupeFor(j: Jurisdiction | undefined): Env['DEDUPE'];
  /** DEBUGGER as the source's object lives in: narrowed to its route's jurisdiction. */
  debuggerFor(source: string): Env['DEBUGGER'];
  /** Its route's archive, else ARCHIVE. */
  archiveFor(source: string): Archive;
  /** ARCHIVE and every route's archive, by binding name (the admin routes' `?archive=`). */
  archives(): ReadonlyMap<string, R2Bucket>;
}

// AWS_REGION's default when unset (the README's and wrangler.toml's).
export const DEFAULT_REGION = 'us-east-1';

function isBucket(value: unknown): value is R2Bucket {
  if (typeof value !== 'object' || value === null) return false;
  const b = value as Record<string, unknown>;
  return ['put', 'get', 'list', 'delete'].every((m) => typeof b[m] === 'function');
}

const binding = (env: Env, name: string): unknown =>
  (env as unknown as Record<string, unknown>)[name];

/** The problems of one route's bindings, each naming the route and the binding. */
function bindingProblems(env: Env, source: string, route: SourceRoute): string[] {
  const at = `FIREHOSE_ROUTES[${JSON.stringify(source)}]`;
  const problems: string[] = [];
  for (const q of route.queues ?? []) {
    if (!isQueue(binding(env, q)))
      problems.push(
        `${at}.queues names ${q}, which is not a queue producer binding of this Worker`,
      );
  }
  if (route.archive !== undefined && !isBucket(binding(env, route.archive)))
    problems.push(
      `${at}.archive names ${route.archive}, which is not an R2 binding of this Worker`,
    );
  return problems;
}

// workerd outside Cloudflare (`wrangler dev`, the tests) has no jurisdictions: its
// DurableObjectNamespace.jurisdiction() throws this. There a route's jurisdiction is emulated by
// a namespace of objects of its own (names prefixed with it), so local runs keep the routed
// sources' objects apart as production does; any other refusal is a configuration error.
const NOT_IN_WORKERD = /not implemented in workerd/i;

/** A namespace restricted to `j`, or, in workerd without jurisdictions, its local stand-in. */
function restrict<T extends Rpc.DurableObjectBranded | undefined>(
  ns: DurableObjectNamespace<T>,
  j: Jurisdiction,
): DurableObjectNamespace<T> {
  try {
    return ns.jurisdiction(j as DurableObjectJurisdiction);
  } catch (e) {
    if (!(e instanceof Error) || !NOT_IN_WORKERD.test(e.message)) throw e;
    const local = Object.create(ns) as DurableObjectNamespace<T>;
    local.idFromName = (name: string) => ns.idFromName(`${j}:${name}`);
    local.getByName = (name: string, options?: DurableObjectNamespaceGetDurableObjectOptions) =>
      ns.get(ns.idFromName(`${j}:${name}`), options);
    local.get = ns.get.bind(ns);
    return local;
  }
}

type Namespaces = Map<Jurisdiction, { DEDUPE?: Env['DEDUPE']; DEBUGGER?: Env['DEBUGGER'] }>;

/** Each jurisdiction's DEDUPE and DEBUGGER namespaces, or the problems of narrowing them. */
function narrowNamespaces(
  env: Env,
  jurisdictions: ReadonlySet<Jurisdiction>,
): { namespaces: Namespaces; problems: string[] } {
  const problems: string[] = [];
  const namespaces: Namespaces = new Map();
  for (const j of jurisdictions) {
    const narrowed: { DEDUPE?: Env['DEDUPE']; DEBUGGER?: Env['DEBUGGER'] } = {};
    for (const name of ['DEDUPE', 'DEBUGGER'] as const) {
      const ns = env[name];
      if (ns === undefined) continue;
      try {
        (narrowed as Record<string, unknown>)[name] = restrict(
          ns as unknown as DurableObjectNamespace,
          j,
        );
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        problems.push(`FIREHOSE_ROUTES: ${name}.jurisdiction("${j}") failed: ${why}`);
      }
    }
    namespaces.set(j, narrowed);
  }
  return { namespaces, problems };
}

function build(env: Env, routes: Routes, namespaces: Namespaces): Placement {
  const bound = eventsQueues(env);
  const unclaimed = bound.filter((q) => !routes.claimedQueues.has(q.name));
  const routeQueues = new Map<string, EventsQueue[]>();
  for (const [source, route] of routes.bySource) {
    if (route.queues === undefined) continue;
    routeQueues.set(
      source,
      route.queues.map((name) => ({ name, queue: binding(env, name) as Queue<string> })),
    );
  }
  const all = new Map<string, EventsQueue>(bound.map((q) => [q.name, q]));
  for (const list of routeQueues.values()) for (const q of list) all.set(q.name, q);
  const defaultRegion = env.AWS_REGION?.trim() || DEFAULT_REGION;
  const defaultFirehose = { region: defaultRegion, streams: parseStreams(env.FIREHOSE_STREAM) };
  const archives = new Map<string, R2Bucket>([['ARCHIVE', env.ARCHIVE]]);
  for (const route of routes.bySource.values())
    if (route.archive !== undefined)
      archives.set(route.archive, binding(env, route.archive) as R2Bucket);
  return {
    routes,
    queuesFor: (source) => routeQueues.get(source) ?? unclaimed,
    allQueues: () => [...all.values()],
    firehoseFor: (source) => {
      const route = routes.bySource.get(source);
      if (route === undefined) return defaultFirehose;
      return { region: route.region ?? defaultRegion, streams: route.streams };
    },
    jurisdictionOf: (source) => routes.bySource.get(source)?.jurisdiction,
    dedupeFor: (j) => (j === undefined ? env.DEDUPE : namespaces.get(j)?.DEDUPE),
    debuggerFor: (source) => {
      const j = routes.bySource.get(source)?.jurisdiction;
      return j === undefined ? env.DEBUGGER : namespaces.get(j)?.DEBUGGER;
    },
    archiveFor: (source) => {
      const name = routes.bySource.get(source)?.archive;
      return name === undefined
        ? { name: 'ARCHIVE', bucket: env.ARCHIVE }
        : { name, bucket: archives.get(name) as R2Bucket };
    },
    archives: () => archives,
  };
}

/** A Placement from FIREHOSE_ROUTES, or every problem of it (unparseable, bindings missing). */
export function resolvePlacement(env: Env): Result<Placement, string> {
  const parsed = parseRoutes(env.FIREHOSE_ROUTES);
  if (!parsed.ok) return parsed;
  const routes = parsed.value;
  const problems: string[] = [];
  const jurisdictions = new Set<Jurisdiction>();
  for (const [source, route] of routes.bySource) {
    problems.push(...bindingProblems(env, source, route));
    if (route.jurisdiction !== undefined) jurisdictions.add(route.jurisdiction);
  }
  const narrowed = narrowNamespaces(env, jurisdictions);
  problems.push(...narrowed.problems);
  if (problems.length > 0) return err(problems.join('; '));
  return ok(build(env, routes, narrowed.namespaces));
}

const cache = new WeakMap<object, Result<Placement, string>>();

/** The env's placement, resolved once per env object (an isolate's env is one object). */
export function placement(env: Env): Result<Placement, string> {
  let resolved = cache.get(env);
  if (resolved === undefined) {
    resolved = resolvePlacement(env);
    cache.set(env, resolved);
  }
  return resolved;
}
