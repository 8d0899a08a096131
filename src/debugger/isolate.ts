// This isolate's debugger tap and the I/O behind it: the data centre's cache and the registry
// for the watch list, the sources' objects for captured events. Adapter: the only module that
// touches the DEBUGGER and DEBUGGER_WATCHLIST bindings and the Cache API.

import type { Env } from '../env';
import { isolateBuffer } from '../metrics/isolate';
import type { IngestTrace } from './capture';
import { grantsOf } from './grants';
import { DEBUGGER_REARM_SLACK_SECONDS, DEBUGGER_WATCH_CACHE_SECONDS } from './limits';
import type { ListAnswer, ListQuery } from './object';
import type { CaptureBatch } from './outbox';
import { DebuggerTap, type Invocation, type TapIo } from './tap';
import { parseWatchList, type WatchList } from './watch';
import type { DebuggerWatchlist } from './watchlist';

export const isolateTap = new DebuggerTap(() => Date.now(), isolateBuffer);

// Where the watch list is cached, under the request's own host: Cloudflare docs, "Cache": a
// hostname other than your own in a cache key costs a DNS lookup. No route serves this path.
export const WATCH_CACHE_PATH = '/__ndc-segment/debugger/watched';

// The registry is one object for every source.
const REGISTRY_NAME = 'watchlist';

/** Reads and writes of the registry this isolate made (each one Durable Object request). */
export const registryReads = { count: 0 };
export const registryWrites = { count: 0 };

export function debuggerBound(env: Env): boolean {
  return env.DEBUGGER !== undefined && env.DEBUGGER_WATCHLIST !== undefined;
}

/** The methods of a source's object, as its stub offers them. */
export interface SourceObject {
  record(batch: CaptureBatch, grants?: readonly string[]): Promise<number>;
  report(grants: readonly string[]): Promise<void>;
  list(query: ListQuery): Promise<ListAnswer>;
  fetch(request: Request): Promise<Response>;
}

export function sourceObject(env: Env, source: string): SourceObject {
  const ns = env.DEBUGGER;
  if (ns === undefined) throw new Error('the DEBUGGER binding is missing');
  // Seen as SourceObject: workers-types maps the typed stub's results through Rpc.Serializable,
  // whose instantiation on the recursive JSON payload type never ends (TS2589), though the
  // linter, which stops earlier, calls the assertion unnecessary.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
  return ns.get(ns.idFromName(source)) as unknown as SourceObject;
}

function registry(env: Env): DurableObjectStub<DebuggerWatchlist> {
  const ns = env.DEBUGGER_WATCHLIST;
  if (ns === undefined) throw new Error('the DEBUGGER_WATCHLIST binding is missing');
  return ns.get(ns.idFromName(REGISTRY_NAME));
}

const cacheKey = (url: string): string => new URL(WATCH_CACHE_PATH, url).toString();

async function cacheWatchList(url: string, list: WatchList): Promise<void> {
  await caches.default.put(
    cacheKey(url),
    new Response(JSON.stringify(list), {
      headers: {
        'Content-Type': 'application/json',
        'Cache-Control': `max-age=${DEBUGGER_WATCH_CACHE_SECONDS}`,
      },
    }),
  );
}

/** The data centre's cached copy of the watch list, else the registry's (then cached). */
async function lookupWatchList(env: Env, url: string): Promise<WatchList> {
  const hit = await caches.default.match(cacheKey(url));
  if (hit !== undefined) return parseWatchList(await hit.json());
  registryReads.count += 1;
  const list = await registry(env).list();
  await cacheWatchList(url, list);
  return list;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const sha256 = async (text: string): Promise<Uint8Array> =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));

let known: { tokens: string; grants: Promise<string[]> } | undefined;

/**
 * The grants of the tokens valid now (ADMIN_TOKEN, DEBUGGER_TOKEN), as this isolate's env has
 * them: computed once per pair of values. Every call to a source's object carries them, so a
 * socket opened under a token rotated since is closed at once (src/debugger/grants.ts).
 */
export function currentGrants(env: Env): Promise<string[]> {
  const tokens = `${env.ADMIN_TOKEN ?? ''}\n${env.DEBUGGER_TOKEN ?? ''}`;
  if (known?.tokens !== tokens) {
    known = { tokens, grants: grantsOf([env.ADMIN_TOKEN, env.DEBUGGER_TOKEN], sha256) };
  }
  return known.grants;
}

/** The grant of one token (the one whose ticket opens a socket). */
export { grantOf } from './grants';
export { sha256 as grantDigest };

/** The tap's I/O for a request to `url`. */
export function tapIo(env: Env, url: string): TapIo {
  return {
    now: () => Date.now(),
    sleep,
    lookup: () => lookupWatchList(env, url),
    send: async (source, batch) => {
      await sourceObject(env, source).record(batch, await currentGrants(env));
    },
  };
}

/** The one call an ingest route makes after each request: hand its trace to the tap. */
export function captureIngest(
  tap: DebuggerTap | undefined,
  env: Env,
  invocation: Invocation,
  url: string,
  trace: IngestTrace,
): void {
  if (tap === undefined || !debuggerBound(env)) return;
  tap.capture(trace, invocation, () => tapIo(env, url));
}

/**
 * Watches `source` for `seconds`: in this isolate at once, then in the registry and this data
 * centre's cached copy (so this data centre's other isolates see it at their next lookup),
 * unless an arming this isolate knows of already lasts within DEBUGGER_REARM_SLACK_SECONDS of
 * that. A registry that cannot be reached leaves the arming local, logged.
 */
export async function armSource(
  tap: DebuggerTap,
  env: Env,
  url: string,
  source: string,
  seconds: number,
): Promise<void> {
  const until = Date.now() + seconds * 1000;
  const known = tap.watch.until(source);
  tap.arm(source, until);
  if (known >= until - DEBUGGER_REARM_SLACK_SECONDS * 1000) return;
  try {
    registryWrites.count += 1;
    const list = await registry(env).arm(source, until);
    await cacheWatchList(url, list);
  } catch (e) {
    console.error('debugger arming not shared', e instanceof Error ? e.message : String(e));
  }
}
