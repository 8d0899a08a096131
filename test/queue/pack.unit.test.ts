import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeHeader } from '../../src/queue/message';
import { groupForSendBatch, packMessages, type PackedMessage } from '../../src/queue/pack';
import {
  QUEUE_MESSAGE_OVERHEAD_BYTES,
  QUEUE_MESSAGE_TARGET_BYTES,
  QUEUE_SEND_BATCH_MAX_BYTES,
} from '../../src/queue/limits';

const RECEIVED = 1_764_410_400_000;

function line(bytes: number): string {
  const base = '{"p":""}';
  return `{"p":"${'x'.repeat(bytes - base.length)}"}`;
}

describe('packMessages', () => {
  it('puts small events in one message with a header that decodes', () => {
    const msgs = packMessages(['{"a":1}', '{"b":"é"}'], 'web', RECEIVED);
    expect(msgs).toHaveLength(1);
    const decoded = decodeMessage(msgs[0]?.body);
    expect(decoded).toEqual({
      header: { v: 1, source: 'web', receivedAt: RECEIVED, events: 2 },
      ndjson: '{"a":1}\n{"b":"é"}\n',
    });
    expect(msgs[0]?.bytes).toBe(new TextEncoder().encode(msgs[0]?.body).length);
  });

  it('never exceeds the target and never splits an event', () => {
    const lines = Array.from({ length: 40 }, () => line(9_000));
    const msgs = packMessages(lines, 'web', RECEIVED);
    expect(msgs.every((m) => m.bytes <= QUEUE_MESSAGE_TARGET_BYTES)).toBe(true);
    expect(msgs.reduce((n, m) => n + m.events, 0)).toBe(40);
    const rejoined = msgs.map((m) => decodeMessage(m.body)?.ndjson).join('');
    expect(rejoined).toBe(lines.map((l) => `${l}\n`).join(''));
    // 9 KB events: six fit under 63,000 bytes with the header, seven do not.
    expect(msgs.map((m) => m.events)).toEqual([6, 6, 6, 6, 6, 6, 4]);
  });

  it('fills a message exactly to the target', () => {
    const header = encodeHeader({ source: 'web', receivedAt: RECEIVED, events: 2 }).length;
    const half = (QUEUE_MESSAGE_TARGET_BYTES - header) / 2 - 1;
    const msgs = packMessages([line(Math.floor(half)), line(Math.ceil(half))], 'web', RECEIVED);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]?.bytes).toBe(QUEUE_MESSAGE_TARGET_BYTES);
    const over = packMessages([line(Math.floor(half)), line(Math.ceil(half) + 1)], 'web', RECEIVED);
    expect(over).toHaveLength(2);
  });

  it('gives an event larger than the target a message of its own', () => {
    const msgs = packMessages(['{}', line(70_000), '{}'], 'web', RECEIVED);
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
