// The debugger's Durable Object, one per source: the last DEBUGGER_RING_EVENTS captured events,
// the pages watching them over WebSockets, and the API's reads. Adapter around the pure ring and
// sampler: storage, the alarm and the sockets.
//
// Isolates send batches over RPC (`record`), at most one call per isolate per second; the object
// samples them again across isolates, adds them to the ring and broadcasts them to every socket.
// Sockets use the hibernation API (ctx.acceptWebSocket): an object with only idle sockets is
// evicted from memory and not billed for duration, its sockets staying open; messages it sends
// are free, and the page's keep-alive pings are answered by the runtime without waking it
// (setWebSocketAutoResponse). The ring is written as one snapshot (a row per part) at most every
// DEBUGGER_PERSIST_SECONDS, so an evicted object comes back with it. A captured event is kept
// DEBUGGER_RETENTION_SECONDS (var, default 3600) from when it reached the object: reads leave
// older ones out, and the alarm due when the oldest expires removes them from memory and
// storage.
//
// Each socket carries the grant of the token that opened it (src/debugger/grants.ts). While any
// socket is open the object wakes every DEBUGGER_GRANT_CHECK_SECONDS and closes those whose
// token is no longer valid (rotated or removed); every call from the Worker (captured events, a
// page opening or renewing) reports the valid grants and closes them at once. With no socket open
// nothing wakes it for this.

import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import { grantsOf, grantValid, type GrantView } from './grants';
import {
  DEBUGGER_RETENTION_MAX_SECONDS,
  DEBUGGER_RETENTION_MIN_SECONDS,
  DEBUGGER_RETENTION_SECONDS_DEFAULT,
} from '../privacy/limits';
import {
  DEBUGGER_GRANT_CHECK_SECONDS,
  DEBUGGER_PERSIST_SECONDS,
  DEBUGGER_REVOKED_CLOSE_CODE,
  DEBUGGER_ROW_MAX_CHARS,
} from './limits';
import { RateSampler, type CaptureBatch } from './outbox';
import { EventRing, type RingEvent, type StatusFilter } from './ring';

/** What a page receives: the ring when it connects, then each batch as it arrives. */
export type SocketMessage =
  | { kind: 'snapshot'; events: RingEvent[]; skipped: number }
  | { kind: 'events'; events: RingEvent[]; skipped: number };

export interface ListQuery {
  status: StatusFilter;
  limit: number;
}

export interface ListAnswer {
  /** Newest first. */
  events: RingEvent[];
  /** Events left out by sampling since the ring began. */
  skipped: number;
}

interface Snapshot {
  events: RingEvent[];
  skipped: number;
  lastAddedAt: number;
  /** Absent in snapshots written before retention by arrival: all taken as `lastAddedAt`. */
  arrivals?: Arrival[];
}

/** DEBUGGER_RETENTION_SECONDS, within its bounds; the default when unset or not a number. */
export function debuggerRetentionSeconds(value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isFinite(n))
    return DEBUGGER_RETENTION_SECONDS_DEFAULT;
  return Math.min(DEBUGGER_RETENTION_MAX_SECONDS, Math.max(DEBUGGER_RETENTION_MIN_SECONDS, n));
}

/** When events reached the object: every event numbered up to `seq` came at `at` or before. */
interface Arrival {
  seq: number;
  at: number;
}

// The keep-alive a page sends; answered without waking the object.
export const SOCKET_PING = 'ping';
export const SOCKET_PONG = 'pong';

// Headers the Worker sets on a socket's upgrade request (only the Worker reaches the object):
// the grant of the token whose ticket opened it, and the grants valid now (comma-separated).
export const GRANT_HEADER = 'X-Debugger-Grant';
export const VALID_GRANTS_HEADER = 'X-Debugger-Valid-Grants';

interface SocketAttachment {
  grant: string;
}

const digest = async (text: string): Promise<Uint8Array> =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));

export class DebuggerSource extends DurableObject<Env> {
  readonly #ring = new EventRing();
  readonly #sampler = new RateSampler();
  #skipped = 0;
  #lastAddedAt = 0;
  /** One entry per batch added, oldest first: what retention counts from. */
  #arrivals: Arrival[] = [];
  #dirty = false;
  #parts = 0;
  #grants: GrantView = { own: new Set() };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.#grants = {
        own: new Set(await grantsOf([env.ADMIN_TOKEN, env.DEBUGGER_TOKEN], digest)),
      };
    });
    const sql = ctx.storage.sql;
    sql.exec('CREATE TABLE IF NOT EXISTS ring (part INTEGER PRIMARY KEY, value TEXT NOT NULL)');
    const parts = sql.exec<{ value: string }>('SELECT value FROM ring ORDER BY part').toArray();
    this.#parts = parts.length;
    if (parts.length > 0) {
      try {
        const saved = JSON.parse(parts.map((p) => p.value).join('')) as Snapshot;
        this.#ring.restore(saved.events);
        this.#skipped = saved.skipped;
        this.#lastAddedAt = saved.lastAddedAt;
        const newest = saved.events.at(-1)?.seq;
        this.#arrivals =
          saved.arrivals ?? (newest === undefined ? [] : [{ seq: newest, at: saved.lastAddedAt }]);
      } catch (e) {
        // A damaged snapshot is dropped: the debugger starts empty.
        console.error('debugger ring unreadable', e instanceof Error ? e.message : String(e));
      }
    }
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(SOCKET_PING, SOCKET_PONG));
  }

  /**
   * A batch from one isolate: sampled, added, broadcast. Returns how many were added. `grants`:
   * the valid grants as that isolate knows them, checked before anything is sent.
   */
  async record(batch: CaptureBatch, grants?: readonly string[]): Promise<number> {
    const now = Date.now();
    if (grants !== undefined) this.report(grants);
    const take = this.#sampler.admit(batch.events.length, now);
    const added = this.#ring.push(batch.events.slice(0, take));
    const skipped = batch.skipped + batch.events.length - take;
    this.#skipped += skipped;
    if (added.length === 0 && skipped === 0) return 0;
    const last = added.at(-1);
    if (last !== undefined) {
      this.#lastAddedAt = now;
      this.#arrivals.push({ seq: last.seq, at: now });
    }
    this.#broadcast({ kind: 'events', events: added, skipped: this.#skipped });
    if (!this.#dirty) {
      this.#dirty = true;
      // Each setAlarm is billed as one row written (Durable Objects pricing).
      await this.ctx.storage.setAlarm(now + DEBUGGER_PERSIST_SECONDS * 1000);
    }
    return added.length;
  }

  /** The Worker's word on which grants are valid now: sockets opened under others close. */
  report(grants: readonly string[]): void {
    const now = Date.now();
    this.#grants = { own: this.#grants.own, reported: { grants: new Set(grants), at: now } };
    this.#closeRevoked(now);
  }

  /** The ring, newest first: what GET /debugger/events answers. */
  list(query: ListQuery): ListAnswer {
    this.#expire(Date.now());
    return { events: this.#ring.newest(query.status, query.limit), skipped: this.#skipped };
  }

  /** A page's WebSocket (already authenticated by the Worker): the ring, then every batch. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('expected a WebSocket upgrade', { status: 426 });
    }
    this.#expire(Date.now());
    const grant = request.headers.get(GRANT_HEADER);
    if (grant === null) return new Response('no grant', { status: 403 });
    const valid = request.headers.get(VALID_GRANTS_HEADER);
    if (valid !== null) this.report(valid.split(',').filter((g) => g !== ''));
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ grant } satisfies SocketAttachment);
    await this.#checkGrantsBy(Date.now() + DEBUGGER_GRANT_CHECK_SECONDS * 1000);
    const hello: SocketMessage = {
      kind: 'snapshot',
      events: this.#ring.newest(),
      skipped: this.#skipped,
    };
    server.send(JSON.stringify(hello));
    return new Response(null, { status: 101, webSocket: client });
  }

  override webSocketMessage(): void {
    // Pages send only keep-alive pings, answered by the auto-response; anything else is ignored.
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): void {
    try {
      // Completes the closing handshake the page started (1005/1006 cannot be sent back).
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    this.#expire(now);
    if (this.#dirty) {
      this.#dirty = false;
      if (this.#ring.size > 0) {
        this.#persist();
      } else {
        // Every event expired: nothing of it stays in storage.
        this.#skipped = 0;
        this.ctx.storage.sql.exec('DELETE FROM ring');
        this.#parts = 0;
      }
    }
    const open = this.#closeRevoked(now);
    // One alarm for both: the oldest event's retention, and the grants' check while sockets are
    // open.
    const [first] = this.#arrivals;
    const next = Math.min(
      first === undefined ? Infinity : first.at + this.#retentionMs(),
      open > 0 ? now + DEBUGGER_GRANT_CHECK_SECONDS * 1000 : Infinity,
    );
    if (next !== Infinity) await this.ctx.storage.setAlarm(next);
  }

  #retentionMs(): number {
    return debuggerRetentionSeconds(this.env.DEBUGGER_RETENTION_SECONDS) * 1000;
  }

  /** Removes events past their retention; storage follows at the next alarm (marked dirty). */
  #expire(now: number): void {
    const cutoff = now - this.#retentionMs();
    let expiredUpTo = 0;
    while (this.#arrivals.length > 0 && (this.#arrivals[0] as Arrival).at <= cutoff) {
      expiredUpTo = (this.#arrivals.shift() as Arrival).seq;
    }
    // Arrivals whose events the ring already pushed out need no alarm of their own.
    const oldest = this.#ring.oldest()?.seq ?? Infinity;
    while (this.#arrivals.length > 0 && (this.#arrivals[0] as Arrival).seq < oldest) {
      this.#arrivals.shift();
    }
    if (expiredUpTo === 0 || this.#ring.retain((e) => e.seq > expiredUpTo) === 0) return;
    if (this.#dirty) return;
    this.#dirty = true;
    // Storage writes in a Durable Object are ordered without awaiting them (output gates).
    void this.ctx.storage.setAlarm(now + DEBUGGER_PERSIST_SECONDS * 1000);
  }

  /** Closes the sockets whose token is no longer valid; returns how many stay open. */
  #closeRevoked(now: number): number {
    let open = 0;
    for (const ws of this.ctx.getWebSockets()) {
      const attached = ws.deserializeAttachment() as SocketAttachment | null;
      if (grantValid(attached?.grant, this.#grants, now)) {
        open += 1;
        continue;
      }
      try {
        ws.close(DEBUGGER_REVOKED_CLOSE_CODE, 'the token that opened this is no longer valid');
      } catch {
        // Already closing.
      }
    }
    return open;
  }

  /** Makes sure the alarm fires by `at` (it may be set earlier already). */
  async #checkGrantsBy(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  #broadcast(message: SocketMessage): void {
    const text = JSON.stringify(message);
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(text);
      } catch {
        // A socket closing as we send: its close event cleans it up.
      }
    }
  }

  /** One row per part, written with UPDATE where the part exists (one row written each). */
  #persist(): void {
    const snapshot: Snapshot = {
      events: this.#ring.oldestFirst(),
      skipped: this.#skipped,
      lastAddedAt: this.#lastAddedAt,
      arrivals: this.#arrivals,
    };
    const text = JSON.stringify(snapshot);
    const sql = this.ctx.storage.sql;
    const parts = Math.max(1, Math.ceil(text.length / DEBUGGER_ROW_MAX_CHARS));
    for (let part = 0; part < parts; part++) {
      const value = text.slice(part * DEBUGGER_ROW_MAX_CHARS, (part + 1) * DEBUGGER_ROW_MAX_CHARS);
      if (part < this.#parts) sql.exec('UPDATE ring SET value = ? WHERE part = ?', value, part);
      else sql.exec('INSERT INTO ring (part, value) VALUES (?, ?)', part, value);
    }
    if (parts < this.#parts) sql.exec('DELETE FROM ring WHERE part >= ?', parts);
    this.#parts = parts;
  }
}
