// The debugger's Durable Objects inside workerd: the per-source ring (sampling across isolates,
// the API read, WebSocket broadcast, persistence and retention) and the registry of watched
// sources.
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { CapturedEvent } from '../../src/debugger/capture';
import { grantDigest, grantOf, sourceObject } from '../../src/debugger/isolate';
import {
  DEBUGGER_GRANT_CHECK_SECONDS,
  DEBUGGER_REVOKED_CLOSE_CODE,
  DEBUGGER_SAMPLE_EVENTS_PER_SECOND,
} from '../../src/debugger/limits';
import { DebuggerSource, GRANT_HEADER, type SocketMessage } from '../../src/debugger/object';
import { DebuggerWatchlist } from '../../src/debugger/watchlist';
import type { Env } from '../../src/env';

const testEnv = env as unknown as Env;

function event(id: string, status: CapturedEvent['status'] = 'accepted'): CapturedEvent {
  return {
    receivedAt: '2026-11-29T10:00:00.000Z',
    status,
    source: 'web',
    type: 'track',
    event: 'Order Completed',
    messageId: id,
    error: status === 'rejected' ? { code: 'missing_field', message: 'x', field: '.event' } : null,
    payload: { messageId: id },
    truncated: false,
    bytes: 20,
  };
}

const fresh = (): string => `test-${crypto.randomUUID()}`;
function stubOf(name: string): DurableObjectStub<DebuggerSource> {
  const ns = testEnv.DEBUGGER;
  if (ns === undefined) throw new Error('no DEBUGGER binding');
  return ns.get(ns.idFromName(name));
}

/**
 * Opens a page's WebSocket on the object, as the Worker does for a ticket of `token` (by default
 * ADMIN_TOKEN, which the object's own secrets hold), and collects what it is sent.
 */
async function openSocket(
  name: string,
  token = testEnv.ADMIN_TOKEN ?? '',
): Promise<{ ws: WebSocket; messages: Array<SocketMessage | string> }> {
  const res = await sourceObject(testEnv, name).fetch(
    new Request('https://collector.test/debugger/ws', {
      headers: { Upgrade: 'websocket', [GRANT_HEADER]: await grantOf(token, grantDigest) },
    }),
  );
  expect(res.status).toBe(101);
  const ws = res.webSocket;
  if (ws === null) throw new Error('no WebSocket in the answer');
  const messages: Array<SocketMessage | string> = [];
  ws.addEventListener('message', (m) => {
    const text = String(m.data);
    messages.push(text === 'pong' ? text : (JSON.parse(text) as SocketMessage));
  });
  ws.accept();
  return { ws, messages };
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('DebuggerSource', () => {
  it('answers the API read newest first, by status, up to the limit', async () => {
    const name = fresh();
    const obj = sourceObject(testEnv, name);
    expect(await obj.record({ events: [event('a'), event('b', 'rejected')], skipped: 0 })).toBe(2);
    await obj.record({ events: [event('c')], skipped: 3 });
    const all = await obj.list({ status: 'all', limit: 500 });
    expect(all.events.map((e) => [e.seq, e.messageId])).toEqual([
      [3, 'c'],
      [2, 'b'],
      [1, 'a'],
    ]);
    expect(all.skipped).toBe(3);
    expect(
      (await obj.list({ status: 'rejected', limit: 500 })).events.map((e) => e.messageId),
    ).toEqual(['b']);
    expect((await obj.list({ status: 'all', limit: 1 })).events.map((e) => e.messageId)).toEqual([
      'c',
    ]);
  });

  it(`samples what isolates send to ${DEBUGGER_SAMPLE_EVENTS_PER_SECOND} events/s and counts the rest`, async () => {
    const name = fresh();
    const events = Array.from({ length: 150 }, (_, i) => event(`e-${i}`));
    // One isolate's batch of 150 (each isolate samples too; across isolates they add up).
    const added = await runInDurableObject(stubOf(name), (instance: DebuggerSource) =>
      instance.record({ events, skipped: 5 }),
    );
    expect(added).toBe(DEBUGGER_SAMPLE_EVENTS_PER_SECOND);
    const list = await sourceObject(testEnv, name).list({ status: 'all', limit: 500 });
    expect(list.events).toHaveLength(DEBUGGER_SAMPLE_EVENTS_PER_SECOND);
    expect(list.events[0]?.messageId).toBe(`e-${DEBUGGER_SAMPLE_EVENTS_PER_SECOND - 1}`);
    expect(list.skipped).toBe(150 - DEBUGGER_SAMPLE_EVENTS_PER_SECOND + 5);
  });

  it('sends a page the ring when it connects, then every batch as it arrives', async () => {
    const name = fresh();
    const obj = sourceObject(testEnv, name);
    await obj.record({ events: [event('before')], skipped: 0 });
    const { ws, messages } = await openSocket(name);
    await until(() => messages.length >= 1, 'the snapshot');
    expect(messages[0]).toMatchObject({ kind: 'snapshot', skipped: 0 });
    expect((messages[0] as SocketMessage).events.map((e) => e.messageId)).toEqual(['before']);

    await obj.record({ events: [event('live-1'), event('live-2', 'rejected')], skipped: 2 });
    await until(() => messages.length >= 2, 'the broadcast');
    const live = messages[1] as SocketMessage;
    expect(live.kind).toBe('events');
    expect(live.events.map((e) => [e.messageId, e.status])).toEqual([
      ['live-1', 'accepted'],
      ['live-2', 'rejected'],
    ]);
    expect(live.skipped).toBe(2);

    // The keep-alive is answered by the runtime (the auto-response), not by waking the object.
    ws.send('ping');
    await until(() => messages.includes('pong'), 'the pong');
    ws.close(1000, 'done');
  });

  it('broadcasts to every page watching the source, and to none of another source', async () => {
    const name = fresh();
    const a = await openSocket(name);
    const b = await openSocket(name);
    const other = await openSocket(fresh());
    await until(
      () => a.messages.length + b.messages.length + other.messages.length === 3,
      'snapshots',
    );
    await sourceObject(testEnv, name).record({ events: [event('x')], skipped: 0 });
    await until(() => a.messages.length === 2 && b.messages.length === 2, 'both pages');
    await new Promise((r) => setTimeout(r, 50));
    expect(other.messages).toHaveLength(1);
    for (const s of [a, b, other]) s.ws.close(1000, 'done');
  });

  it('writes its ring from the alarm and comes back with it after eviction', async () => {
    const name = fresh();
    const stub = stubOf(name);
    await sourceObject(testEnv, name).record({ events: [event('kept')], skipped: 4 });
    const rows = () =>
      runInDurableObject(stub, (_i, state) =>
        state.storage.sql.exec('SELECT count(*) AS n FROM ring').one(),
      );
    expect((await rows())['n']).toBe(0);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await rows())['n']).toBe(1);
    const reloaded = await runInDurableObject(stub, (_i, state) =>
      new DebuggerSource(state, testEnv).list({ status: 'all', limit: 500 }),
    );
    expect(reloaded.events.map((e) => [e.seq, e.messageId])).toEqual([[1, 'kept']]);
    expect(reloaded.skipped).toBe(4);
  });

  it('keeps a payload DEBUGGER_RETENTION_SECONDS, then drops it from reads and storage', async () => {
    const name = fresh();
    const stub = stubOf(name);
    await sourceObject(testEnv, name).record({ events: [event('old')], skipped: 0 });
    await sourceObject(testEnv, name).record({ events: [event('recent')], skipped: 0 });
    await runDurableObjectAlarm(stub); // persisted
    const now = Date.now();
    const after = await runInDurableObject(stub, async (_i, state) => {
      // As stored, with the first batch arrived an hour and a second ago, the second a minute ago.
      const row = state.storage.sql.exec<{ value: string }>('SELECT value FROM ring').one();
      const saved = JSON.parse(row.value) as { arrivals: Array<{ seq: number; at: number }> };
      expect(saved.arrivals.map((a) => a.seq)).toEqual([1, 2]);
      saved.arrivals = [
        { seq: 1, at: now - 3_601_000 },
        { seq: 2, at: now - 60_000 },
      ];
      state.storage.sql.exec('UPDATE ring SET value = ?', JSON.stringify(saved));
      const revived = new DebuggerSource(state, testEnv);
      // Reads never show an event past the default retention (3,600 s).
      const listed = revived.list({ status: 'all', limit: 500 }).events.map((e) => e.messageId);
      await revived.alarm();
      const stored = state.storage.sql.exec<{ value: string }>('SELECT value FROM ring').one();
      const alarm = await state.storage.getAlarm();
      // A shorter retention (the var) drops the recent one too, and the ring's storage with it.
      const shorter = new DebuggerSource(state, { ...testEnv, DEBUGGER_RETENTION_SECONDS: '60' });
      await shorter.alarm();
      return {
        listed,
        stored: stored.value,
        alarm,
        after: shorter.list({ status: 'all', limit: 500 }).events.length,
        rows: state.storage.sql.exec('SELECT count(*) AS n FROM ring').one()['n'],
      };
    });
    expect(after.listed).toEqual(['recent']);
    expect(after.stored).toContain('"recent"');
    expect(after.stored).not.toContain('"old"');
    // The next alarm is when the recent one expires.
    expect(after.alarm).toBe(now - 60_000 + 3_600_000);
    expect(after.after).toBe(0);
    expect(after.rows).toBe(0);
  });

  it('checks grants every 30 s while a socket is open, closing one its own secrets no longer hold', async () => {
    const name = fresh();
    const before = Date.now();
    const kept = await openSocket(name);
    const stale = await openSocket(name, 'a-token-rotated-away');
    const closed: number[] = [];
    stale.ws.addEventListener('close', (e) => {
      closed.push(e.code);
    });
    const alarm = await runInDurableObject(stubOf(name), (_o, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm ?? Infinity).toBeLessThanOrEqual(Date.now() + DEBUGGER_GRANT_CHECK_SECONDS * 1000);
    expect(alarm ?? 0).toBeGreaterThan(before);
    // The alarm: the socket opened under a token the object's secrets do not hold is closed,
    // the other stays, and the next check is armed again.
    expect(await runDurableObjectAlarm(stubOf(name))).toBe(true);
    await until(() => closed.length > 0, 'the stale socket to close');
    expect(closed).toEqual([DEBUGGER_REVOKED_CLOSE_CODE]);
    const open = await runInDurableObject(stubOf(name), (_o, state) => ({
      sockets: state.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN).length,
      alarm: state.storage.getAlarm(),
    }));
    expect(open.sockets).toBe(1);
    expect(await open.alarm).not.toBeNull();
    kept.ws.close(1000, 'done');
  });

  it('arms no grant check once no socket is open (an idle object is not woken)', async () => {
    const name = fresh();
    const page = await openSocket(name);
    page.ws.close(1000, 'bye');
    for (let i = 0; i < 200; i++) {
      const open = await runInDurableObject(stubOf(name), (_o, state) => state.getWebSockets());
      if (open.length === 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await runDurableObjectAlarm(stubOf(name))).toBe(true);
    const alarm = await runInDurableObject(stubOf(name), (_o, state) => state.storage.getAlarm());
    expect(alarm).toBeNull();
  });

  it('refuses a request that is not a WebSocket upgrade', async () => {
    const res = await sourceObject(testEnv, fresh()).fetch(new Request('https://collector.test/x'));
    expect(res.status).toBe(426);
  });
});

describe('DebuggerWatchlist', () => {
  function registry(name: string): DurableObjectStub<DebuggerWatchlist> {
    const ns = testEnv.DEBUGGER_WATCHLIST;
    if (ns === undefined) throw new Error('no DEBUGGER_WATCHLIST binding');
    return ns.get(ns.idFromName(name));
  }

  it('holds every watched source until its expiry, extended never shortened, across restarts', async () => {
    const stub = registry(fresh());
    const now = Date.now();
    expect(await stub.list()).toEqual({});
    await stub.arm('web', now + 60_000);
    await stub.arm('web', now + 30_000);
    expect(await stub.arm('ios', now + 600_000)).toEqual({ web: now + 60_000, ios: now + 600_000 });
    const reloaded = await runInDurableObject(stub, (_i, state) =>
      new DebuggerWatchlist(state, testEnv).list(),
    );
    expect(reloaded).toEqual({ web: now + 60_000, ios: now + 600_000 });
  });

  it('drops sources whose watch expired', async () => {
    const stub = registry(fresh());
    const now = Date.now();
    await stub.arm('gone', now - 1);
    expect(await stub.list()).toEqual({});
    expect(await stub.arm('web', now + 1000)).toEqual({ web: now + 1000 });
  });
});
