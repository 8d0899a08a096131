import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeHeader, messageIds, messageLines } from '../../src/queue/message';
import {
  groupForSendBatch,
  packCopies,
  packMessages,
  type CopyInput,
  type PackEvent,
  type PackedMessage,
} from '../../src/queue/pack';
import {
  QUEUE_MESSAGE_OVERHEAD_BYTES,
  QUEUE_MESSAGE_TARGET_BYTES,
  QUEUE_SEND_BATCH_MAX_BYTES,
} from '../../src/queue/limits';

const RECEIVED = 1_764_410_400_000;

const AT = { source: 'web', receivedAt: RECEIVED };

function line(bytes: number): string {
  const base = '{"p":""}';
  return `{"p":"${'x'.repeat(bytes - base.length)}"}`;
}

/** Events with ids m0, m1, … in order. */
const events = (lines: readonly string[]): PackEvent[] =>
  lines.map((l, i) => ({ line: l, messageId: `m${i}` }));

describe('packMessages', () => {
  it('puts small events in one message with a header that decodes', () => {
    const msgs = packMessages(events(['{"a":1}', '{"b":"é"}']), AT);
    expect(msgs).toHaveLength(1);
    const decoded = decodeMessage(msgs[0]?.body);
    expect(decoded).toEqual({
      header: { v: 1, source: 'web', receivedAt: RECEIVED, events: 2, ids: ['m0', 'm1'] },
      ndjson: '{"a":1}\n{"b":"é"}\n',
    });
    expect(msgs[0]?.bytes).toBe(new TextEncoder().encode(msgs[0]?.body).length);
  });

  it('never exceeds the target and never splits an event', () => {
    const lines = Array.from({ length: 40 }, () => line(9_000));
    const msgs = packMessages(events(lines), AT);
    expect(msgs.every((m) => m.bytes <= QUEUE_MESSAGE_TARGET_BYTES)).toBe(true);
    expect(msgs.reduce((n, m) => n + m.events, 0)).toBe(40);
    const rejoined = msgs.map((m) => decodeMessage(m.body)?.ndjson).join('');
    expect(rejoined).toBe(lines.map((l) => `${l}\n`).join(''));
    // 9 KB events: six fit under 63,000 bytes with the header, seven do not.
    expect(msgs.map((m) => m.events)).toEqual([6, 6, 6, 6, 6, 6, 4]);
  });

  it('fills a message exactly to the target, ids in the header included', () => {
    const header = encodeHeader({ ...AT, events: 2, ids: ['m0', 'm1'] }).length;
    const half = (QUEUE_MESSAGE_TARGET_BYTES - header) / 2 - 1;
    const msgs = packMessages(events([line(Math.floor(half)), line(Math.ceil(half))]), AT);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]?.bytes).toBe(QUEUE_MESSAGE_TARGET_BYTES);
    const over = packMessages(events([line(Math.floor(half)), line(Math.ceil(half) + 1)]), AT);
    expect(over).toHaveLength(2);
  });

  it('counts long and escaped messageIds against the target', () => {
    const id = `"é\\${'i'.repeat(250)}`;
    const lines = Array.from({ length: 200 }, () => line(300));
    const msgs = packMessages(
      lines.map((l) => ({ line: l, messageId: id })),
      AT,
    );
    for (const m of msgs) {
      expect(m.bytes).toBe(new TextEncoder().encode(m.body).length);
      expect(m.bytes).toBeLessThanOrEqual(QUEUE_MESSAGE_TARGET_BYTES);
      expect(decodeMessage(m.body)?.header.ids?.every((x) => x === id)).toBe(true);
    }
  });

  it('carries a replay token in every message', () => {
    const msgs = packMessages(events(['{}', '{}']), { ...AT, token: 'msg-7' });
    expect(decodeMessage(msgs[0]?.body)?.header.token).toBe('msg-7');
  });

  it('gives an event larger than the target a message of its own', () => {
    const msgs = packMessages(events(['{}', line(70_000), '{}']), AT);
    expect(msgs.map((m) => m.events)).toEqual([1, 1, 1]);
  });
});

describe('groupForSendBatch', () => {
  const msg = (bytes: number): PackedMessage => ({ body: '', bytes, events: 1 });

  it('splits at 100 messages', () => {
    const groups = groupForSendBatch(Array.from({ length: 250 }, () => msg(10)));
    expect(groups.map((g) => g.length)).toEqual([100, 100, 50]);
  });

  it('splits before the total would exceed the byte limit', () => {
    const size = QUEUE_MESSAGE_TARGET_BYTES;
    const groups = groupForSendBatch(Array.from({ length: 9 }, () => msg(size)));
    const perCall = Math.floor(QUEUE_SEND_BATCH_MAX_BYTES / (size + QUEUE_MESSAGE_OVERHEAD_BYTES));
    expect(groups.map((g) => g.length)).toEqual([perCall, perCall, 9 - 2 * perCall]);
    for (const g of groups) {
      expect(g.reduce((n, m) => n + m.bytes + QUEUE_MESSAGE_OVERHEAD_BYTES, 0)).toBeLessThanOrEqual(
        QUEUE_SEND_BATCH_MAX_BYTES,
      );
    }
  });
});

describe('messageIds', () => {
  it('reads the ids from the header', () => {
    const [m] = packMessages(events(['{"messageId":"x"}', '{}']), AT);
    const decoded = decodeMessage(m?.body);
    if (decoded === undefined) throw new Error('decode');
    expect(messageIds(decoded, messageLines(decoded))).toEqual(['m0', 'm1']);
  });

  it('parses them from the lines of a message written without ids', () => {
    const body = `${encodeHeader({ ...AT, events: 3 })}{"messageId":"a"}\n{"x":1}\nnot json\n`;
    const decoded = decodeMessage(body);
    if (decoded === undefined) throw new Error('decode');
    expect(messageIds(decoded, messageLines(decoded))).toEqual(['a', 'line:1', 'line:2']);
  });

  it('ignores ids whose count does not match the events', () => {
    const body = `${encodeHeader({ ...AT, events: 1 }).replace('}', ',"ids":["a","b"]}')}{}\n`;
    expect(decodeMessage(body)?.header.ids).toBeUndefined();
  });
});

describe('decodeMessage', () => {
  it.each([
    42,
    'no newline',
    '{"v":2,"source":"x","receivedAt":1,"events":1}\n{}\n',
    '{"v":1}\n{}\n',
    'nope\n{}\n',
  ])('refuses %j', (body) => {
    expect(decodeMessage(body)).toBeUndefined();
  });
});

describe('packCopies', () => {
  /** A delivered message of `n` events of `bytes` each, ids `<index>-<k>`. */
  const delivered = (index: number, source: string, n: number, bytes: number): CopyInput => ({
    index,
    source,
    receivedAt: RECEIVED + index,
    ndjson: Array.from({ length: n }, () => `${line(bytes)}\n`).join(''),
    ids: Array.from({ length: n }, (_v, k) => `${index}-${k}`),
  });

  it('re-packs small messages of one source into one copy that decodes, earliest receivedAt', () => {
    const [copy, ...rest] = packCopies([delivered(3, 'web', 2, 500), delivered(5, 'web', 1, 500)]);
    expect(rest).toEqual([]);
    expect(copy?.indexes).toEqual([3, 5]);
    const decoded = decodeMessage(copy?.body);
    expect(decoded?.header).toMatchObject({
      source: 'web',
      receivedAt: RECEIVED + 3,
      events: 3,
      ids: ['3-0', '3-1', '5-0'],
    });
    expect(messageLines(decoded!)).toHaveLength(3);
    expect(copy?.bytes).toBe(new TextEncoder().encode(copy?.body).length);
  });

  it('keeps sources apart, messages whole, and every copy within the target', () => {
    const inputs = Array.from({ length: 30 }, (_v, i) =>
      delivered(i, i % 3 === 0 ? 'ios' : 'web', 4, 1_500),
    );
    const copies = packCopies(inputs);
    for (const c of copies) {
      expect(c.bytes).toBeLessThanOrEqual(QUEUE_MESSAGE_TARGET_BYTES);
      const d = decodeMessage(c.body);
      expect(new Set(c.indexes.map((i) => inputs[i]?.source))).toEqual(new Set([d?.header.source]));
      expect(d?.header.ids).toEqual(c.indexes.flatMap((i) => inputs[i]?.ids ?? []));
    }
    expect(copies.flatMap((c) => c.indexes).sort((a, b) => a - b)).toEqual(
      inputs.map((i) => i.index),
    );
    // 120 events of ~1.5 KB (~180 KB) in far fewer copies than the 30 messages.
    expect(copies.length).toBeLessThanOrEqual(5);
  });

  it('gives a message over the target a copy of its own', () => {
    const copies = packCopies([delivered(0, 'web', 1, 100), delivered(1, 'web', 2, 40_000)]);
    expect(copies.map((c) => c.indexes)).toEqual([[0], [1]]);
  });
});

describe('blocked events in a message', () => {
  const mixed: PackEvent[] = [
    { line: '{"a":1}', messageId: 'ok1' },
    { line: '{"b":2}', messageId: 'bad1', blocked: 'violation' },
    { line: '{"c":3}', messageId: 'ok2' },
    { line: '{"d":4}', messageId: 'un1', blocked: 'unplanned_event' },
  ];

  it('marks them by reason in the header and decodes them apart from the lines to deliver', () => {
    const [m] = packMessages(mixed, AT);
    expect(JSON.parse(m?.body.split('\n')[0] ?? '')).toMatchObject({
      events: 4,
      ids: ['ok1', 'bad1', 'ok2', 'un1'],
      blocked: { violation: [1], unplanned_event: [3] },
    });
    expect(decodeMessage(m?.body)).toEqual({
      header: { v: 1, source: 'web', receivedAt: RECEIVED, events: 2, ids: ['ok1', 'ok2'] },
      ndjson: '{"a":1}\n{"c":3}\n',
      blocked: {
        lines: ['{"b":2}', '{"d":4}'],
        ids: ['bad1', 'un1'],
        reasons: ['violation', 'unplanned_event'],
      },
    });
  });

  it('decodes a message of blocked events only as one with nothing to deliver', () => {
    const [m] = packMessages([{ line: '{"b":2}', messageId: 'b', blocked: 'violation' }], AT);
    const decoded = decodeMessage(m?.body);
    expect([decoded?.header.events, decoded?.ndjson, decoded?.blocked?.ids]).toEqual([
      0,
      '',
      ['b'],
    ]);
    expect(messageLines(decoded ?? { header: { ...AT, v: 1, events: 0 }, ndjson: '' })).toEqual([]);
  });

  it('keeps messages within the target with the marks counted', () => {
    const many = Array.from({ length: 400 }, (_v, i) => ({
      line: line(600),
      messageId: `id-${i}`,
      ...(i % 2 === 0 ? { blocked: i % 4 === 0 ? 'violation' : 'unplanned_event' } : {}),
    }));
    const msgs = packMessages(many, AT);
    for (const m of msgs) {
      expect(m.bytes).toBeLessThanOrEqual(QUEUE_MESSAGE_TARGET_BYTES);
      expect(m.bytes).toBe(new TextEncoder().encode(m.body).length);
    }
    const decoded = msgs.map((m) => decodeMessage(m.body));
    expect(decoded.reduce((n, d) => n + (d?.header.events ?? 0), 0)).toBe(200);
    expect(decoded.reduce((n, d) => n + (d?.blocked?.lines.length ?? 0), 0)).toBe(200);
  });

  it.each([
    ['an index past the lines', { violation: [5] }],
    ['a line marked twice', { violation: [0], unplanned_event: [0] }],
    ['a mark that is not a list', { violation: 0 }],
    ['marks that are not an object', [0]],
  ])('takes a message with %s for one not ours', (_n, blocked) => {
    const body = `${encodeHeader({ ...AT, events: 1, ids: ['a'] }).replace(/}\n$/, `,"blocked":${JSON.stringify(blocked)}}\n`)}{"a":1}\n`;
    expect(decodeMessage(body)).toBeUndefined();
  });
});
