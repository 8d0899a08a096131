// Queue message version 2: the facts a request's events share travel once per message, and the
// consumer's decode gives back, byte for byte, the lines version 1 carried (golden over the
// fixtures); version 1 messages are still read as they always were.
import { describe, expect, it } from 'vitest';
import {
  QUEUE_MESSAGE_RESTORED_MAX_BYTES,
  QUEUE_MESSAGE_TARGET_BYTES,
} from '../../src/queue/limits';
import {
  COMPACT_FORMAT_VERSION,
  decodeMessage,
  encodeHeader,
  FACT_MARKS,
  MESSAGE_FORMAT_VERSION,
} from '../../src/queue/message';
import { packMessages, type PackEvent } from '../../src/queue/pack';
import { sharedFacts } from '../../src/queue/shared-facts';
import type { RequestFacts } from '../../src/segment/enrich';
import { ingestBatch, parseBatchEnvelope, type QueuedEvent } from '../../src/segment/ingest';
import { utf8Length } from '../../src/segment/utf8';
import { SEED_TRACK, VALID_CALLS } from '../fixtures/calls';

const RECEIVED = Date.parse('2026-12-07T04:00:00.000Z');
const FACTS: RequestFacts = {
  receivedAt: RECEIVED,
  ip: '203.0.113.42',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36 — é 🚀',
  location: { country: 'AU', city: 'Melbourne', latitude: -37.8136, longitude: 144.9631 },
};

// What analytics.js puts in every call of one page.
const BROWSER_CONTEXT = {
  library: { name: 'analytics.js', version: 'npm:next-1.84.3' },
  page: { path: '/', title: 'Ünïcode "quoted" title', url: 'https://shop.example/?q=a&b=c' },
  locale: 'en-AU',
  userAgentData: { brands: [{ brand: 'Chromium', version: '131' }], mobile: false },
  timezone: 'Australia/Melbourne',
};

function ingest(batch: unknown[], extra: Record<string, unknown> = {}, anonymizeIp = false) {
  let n = 0;
  const envelope = parseBatchEnvelope({ batch, ...extra });
  if (!envelope.ok) throw new Error(envelope.error.message);
  const out = ingestBatch(envelope.value, 0, FACTS, {
    source: 'web',
    anonymizeIp,
    newId: () => `id-${++n}`,
  });
  if (!out.ok) throw new Error(out.error.message);
  return out.value.accepted;
}

const toPack = (events: readonly QueuedEvent[]): PackEvent[] =>
  events.map((e) => ({ line: e.line, bytes: e.bytes, messageId: e.messageId }));

/** The lines the consumer reads back from a request's messages, and the messages' bytes. */
function readBack(events: PackEvent[], facts?: string[], target?: number) {
  const messages = packMessages(events, { source: 'web', receivedAt: RECEIVED, facts }, target);
  const decoded = messages.map((m) => {
    expect(m.bytes).toBe(utf8Length(m.body));
    const d = decodeMessage(m.body);
    if (d === undefined) throw new Error('undecodable');
    expect(d.header.v).toBe(MESSAGE_FORMAT_VERSION);
    expect(d.header).not.toHaveProperty('facts');
    return d;
  });
  return {
    bodies: messages.map((m) => m.body),
    ndjson: decoded.map((d) => d.ndjson).join(''),
    ids: decoded.flatMap((d) => d.header.ids ?? []),
    bytes: messages.reduce((s, m) => s + m.bytes, 0),
    blocked: decoded.flatMap((d) => d.blocked?.lines ?? []),
  };
}

const withContext = (call: Record<string, unknown>) => ({ ...call, context: BROWSER_CONTEXT });

const GOLDEN: Array<[string, unknown[], Record<string, unknown>, boolean]> = [
  ['every call type', Object.values(VALID_CALLS), {}, false],
  ['track.json × 100', Array.from({ length: 100 }, () => SEED_TRACK), {}, false],
  [
    "analytics.js's batch (page context, batch sentAt)",
    Object.values(VALID_CALLS).map(withContext),
    { sentAt: '2026-12-07T03:59:59.000Z' },
    false,
  ],
  [
    'batch-level context, calls with their own ip and timestamps',
    [
      { ...VALID_CALLS.track, context: { ip: '198.51.100.1' } },
      { ...VALID_CALLS.page, timestamp: '2026-12-07T03:59:58.000Z' },
      {
        ...VALID_CALLS.identify,
        // The facts' own text inside a value: escaped there, and kept as it was.
        traits: { note: '"ip":"203.0.113.42"', ip: '203.0.113.42', ü: '🚀' },
      },
    ],
    { context: { library: { name: 'analytics-node', version: '2.1.0' } } },
    false,
  ],
  ['anonymised addresses', Object.values(VALID_CALLS), {}, true],
];

describe('version 2 messages (facts once per message)', () => {
  it.each(GOLDEN)(
    '%s: read back byte for byte as version 1 delivered it',
    (_l, batch, extra, anon) => {
      const events = ingest(batch, extra, anon);
      const old = readBack(toPack(events));
      const compact = readBack(toPack(events), sharedFacts(events[0]?.event));
      // Version 1 carries the lines as ingest made them.
      expect(old.ndjson).toBe(events.map((e) => `${e.line}\n`).join(''));
      expect(compact.ndjson).toBe(old.ndjson);
      expect(compact.ids).toEqual(old.ids);
      expect(compact.bodies[0]?.startsWith(`{"v":${COMPACT_FORMAT_VERSION},`)).toBe(true);
      expect(compact.bytes).toBeLessThan(old.bytes);
    },
  );

  it('puts each shared fact in the header once and none in the lines', () => {
    const events = ingest(Object.values(VALID_CALLS).map(withContext));
    const [body] = readBack(toPack(events), sharedFacts(events[0]?.event)).bodies;
    const lines = (body ?? '').split('\n').slice(1, -1);
    expect(lines).toHaveLength(events.length);
    for (const line of lines) {
      for (const text of ['"userAgent":', '"library":', '"location":{', '"receivedAt":', '"page":'])
        expect(line).not.toContain(text);
    }
    // A batch of 100 track.json: queued bytes near what was received.
    const seed = ingest(Array.from({ length: 100 }, () => SEED_TRACK));
    const received = JSON.stringify({ batch: Array.from({ length: 100 }, () => SEED_TRACK) });
    const queued = readBack(toPack(seed), sharedFacts(seed[0]?.event)).bytes;
    expect(queued / utf8Length(received)).toBeLessThanOrEqual(1.3);
  });

  it('carries the facts in every message of a request split over several', () => {
    const events = ingest(Array.from({ length: 60 }, () => withContext(VALID_CALLS.track)));
    const old = readBack(toPack(events), undefined, 4000);
    const compact = readBack(toPack(events), sharedFacts(events[0]?.event), 4000);
    expect(compact.bodies.length).toBeGreaterThan(1);
    for (const body of compact.bodies) expect(body).toMatch(/^\{"v":2,.*"facts":\[/);
    expect(compact.ndjson).toBe(old.ndjson);
  });

  it('keeps every message, restored, under what a requeued copy or dead letter may resend', () => {
    // Small calls sharing a large page context: compacted, many fit 63,000 bytes; restored, the
    // version 1 form (what step.ts requeues and the DLQ gets) must stay under 128 KB.
    const page = { url: `https://shop.example/${'p'.repeat(3000)}` };
    const events = ingest(
      Array.from({ length: 400 }, () => ({ ...VALID_CALLS.alias, context: { page } })),
    );
    const facts = sharedFacts(events[0]?.event);
    const messages = packMessages(toPack(events), { source: 'web', receivedAt: RECEIVED, facts });
    expect(messages.length).toBeGreaterThan(1);
    let restored = '';
    for (const m of messages) {
      expect(m.bytes).toBeLessThanOrEqual(QUEUE_MESSAGE_TARGET_BYTES);
      const d = decodeMessage(m.body);
      const ids = d?.header.ids ?? [];
      const v1 = encodeHeader({ source: 'web', receivedAt: RECEIVED, events: ids.length, ids });
      expect(utf8Length(v1) + utf8Length(d?.ndjson ?? '')).toBeLessThanOrEqual(
        QUEUE_MESSAGE_RESTORED_MAX_BYTES,
      );
      restored += d?.ndjson ?? '';
    }
    expect(restored).toBe(events.map((e) => `${e.line}\n`).join(''));
  });

  it('keeps blocked lines marked and restored', () => {
    const events = ingest(Object.values(VALID_CALLS));
    const pack = toPack(events).map((e, i) => (i % 2 === 0 ? { ...e, blocked: 'violation' } : e));
    const old = readBack(pack);
    const compact = readBack(pack, sharedFacts(events[0]?.event));
    expect(compact.blocked).toEqual(old.blocked);
    expect(compact.blocked.length).toBeGreaterThan(0);
    expect(compact.ndjson).toBe(old.ndjson);
  });

  it('carries no fact that none of its lines holds', () => {
    const events = ingest(Object.values(VALID_CALLS));
    const facts = ['"ip":"198.51.100.77"', ...sharedFacts(events[0]?.event)];
    const [m] = packMessages(toPack(events), { source: 'web', receivedAt: RECEIVED, facts });
    expect(m?.body).not.toContain('198.51.100.77');
    expect(decodeMessage(m?.body)?.ndjson).toBe(events.map((e) => `${e.line}\n`).join(''));
    const none = packMessages(toPack(events), {
      source: 'web',
      receivedAt: RECEIVED,
      facts: ['"ip":"198.51.100.77"'],
    });
    expect(none[0]?.body.startsWith('{"v":1,')).toBe(true);
  });

  it('writes a single event as version 1: its facts travel once anyway', () => {
    const events = ingest([VALID_CALLS.track]);
    const { bodies } = readBack(toPack(events), sharedFacts(events[0]?.event));
    expect(bodies[0]?.startsWith(`{"v":${MESSAGE_FORMAT_VERSION},`)).toBe(true);
  });

  it('refuses a version 2 message whose facts are missing, not strings or too many', () => {
    const lines = `{"type":"track","messageId":"a",${FACT_MARKS.charAt(0)}}\n`;
    const head = (extra: string) =>
      `{"v":2,"source":"web","receivedAt":1,"events":1,"ids":["a"]${extra}}\n${lines}`;
    expect(decodeMessage(head(''))).toBeUndefined();
    expect(decodeMessage(head(',"facts":[1]'))).toBeUndefined();
    expect(
      decodeMessage(head(`,"facts":${JSON.stringify(Array(17).fill('"x":1'))}`)),
    ).toBeUndefined();
    expect(decodeMessage(head(',"facts":["\\u0001"]'))).toBeUndefined();
    expect(decodeMessage(head(',"facts":["\\"x\\":1"]'))?.ndjson).toBe(
      '{"type":"track","messageId":"a","x":1}\n',
    );
  });
});

describe('version 1 messages', () => {
  it('are read as the collector before version 2 wrote them', () => {
    // Verbatim as the previous producer wrote it (ids, a blocked line).
    const body =
      '{"v":1,"source":"web","receivedAt":1795942800000,"events":2,"ids":["m1","m2"],' +
      '"blocked":{"violation":[1]}}\n' +
      '{"type":"track","context":{"ip":"203.0.113.42"},"messageId":"m1","source":"web"}\n' +
      '{"type":"track","messageId":"m2","source":"web"}\n';
    const decoded = decodeMessage(body);
    expect(decoded?.ndjson).toBe(
      '{"type":"track","context":{"ip":"203.0.113.42"},"messageId":"m1","source":"web"}\n',
    );
    expect(decoded?.header).toEqual({
      v: 1,
      source: 'web',
      receivedAt: 1795942800000,
      events: 1,
      ids: ['m1'],
    });
    expect(decoded?.blocked?.ids).toEqual(['m2']);
  });
});
