import { describe, expect, it } from 'vitest';
import type { CallOutcome } from '../../src/firehose/codec';
import type { PackLimits } from '../../src/firehose/pack';
import { archiveLines, encodeDeadLetter, undecodableLine } from '../../src/archive/format';
import { archiveKey } from '../../src/archive/keys';
import {
  decide,
  planDelivery,
  splitCall,
  type DeliveryInput,
  type SentCall,
} from '../../src/queue/delivery';
import { decodeMessage } from '../../src/queue/message';
import { packMessages } from '../../src/queue/pack';

const AT = Date.parse('2026-11-29T10:00:00.000Z');

function body(source: string, lines: string[]): string {
  const [m] = packMessages(
    lines.map((line, i) => ({ line, messageId: `m${i + 1}` })),
    { source, receivedAt: AT },
  );
  if (m === undefined) throw new Error('no message');
  return m.body;
}

function input(index: number, source: string, lines: string[]): DeliveryInput {
  const ndjson = lines.map((l) => `${l}\n`).join('');
  return {
    index,
    source,
    ndjson,
    bytes: new TextEncoder().encode(ndjson).length,
    events: lines.length,
  };
}

const sent = (plan: ReturnType<typeof planDelivery>, ...outcomes: CallOutcome[]): SentCall[] =>
  plan.calls.map((call, i) => ({
    call,
    outcome: outcomes[i] ?? outcomes[0] ?? { kind: 'records', records: [] },
  }));

describe('planDelivery', () => {
  it('routes each message by source and keeps every event', () => {
    const plan = planDelivery(
      [input(0, 'web', ['{"a":1}']), input(2, 'ios', ['{"b":2}', '{"c":3}'])],
      ['s1', 's2'],
    );
    expect(plan.unsendable).toEqual([]);
    const indexes = plan.calls.flatMap((c) => c.records.flatMap((r) => r.messages));
    expect(indexes.sort()).toEqual([0, 2]);
    const data = plan.calls.flatMap((c) => c.records.map((r) => r.data)).join('');
    expect(data.split('\n').filter(Boolean).sort()).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('keeps a call within 4,000,000 bytes and a record within 1,000,000 bytes', () => {
    // 100 messages of ~60 KB: 6 MB in all.
    const line = `{"p":"${'x'.repeat(60_000)}"}`;
    const plan = planDelivery(
      Array.from({ length: 100 }, (_v, i) => input(i, 'web', [line])),
      ['s'],
    );
    expect(plan.calls.length).toBeGreaterThan(1);
    for (const call of plan.calls) {
      expect(call.records.reduce((n, r) => n + r.bytes, 0)).toBeLessThanOrEqual(4_000_000);
      for (const r of call.records) expect(r.bytes).toBeLessThanOrEqual(1_000_000);
    }
  });
});

describe('splitCall', () => {
  const tiny: PackLimits = { maxRecordBytes: 30, maxRecordsPerCall: 500, maxCallBytes: 1e9 };
  const inputs = [0, 1, 2, 3, 4].map((i) => input(i, 'web', [`{"n":${i}}`]));
  const byIndex = new Map(inputs.map((i) => [i.index, i]));

  it('splits a call of several records into two calls of half the records', () => {
    const [call] = planDelivery(inputs, ['s'], tiny).calls;
    if (call === undefined) throw new Error('plan');
    expect(call.records.length).toBeGreaterThan(1);
    const parts = splitCall(call, byIndex) ?? [];
    expect(parts).toHaveLength(2);
    expect(parts.flatMap((p) => p.records.flatMap((r) => r.messages))).toEqual(
      call.records.flatMap((r) => r.messages),
    );
  });

  it('splits a lone record into two records of whole messages', () => {
    const [call] = planDelivery(inputs, ['s']).calls;
    if (call === undefined) throw new Error('plan');
    expect(call.records).toHaveLength(1);
    const parts = splitCall(call, byIndex) ?? [];
    expect(parts.map((p) => p.records.map((r) => r.messages))).toEqual([[[0, 1, 2]], [[3, 4]]]);
    expect(parts.map((p) => p.records[0]?.data).join('')).toBe(call.records[0]?.data);
  });

  it('cannot split a call of one message', () => {
    const [call] = planDelivery([inputs[0] as DeliveryInput], ['s']).calls;
    if (call === undefined) throw new Error('plan');
    expect(splitCall(call, byIndex)).toBeUndefined();
  });
});

describe('decide', () => {
  const plan = planDelivery([input(0, 'web', ['{"a":1}']), input(1, 'web', ['{"b":1}'])], ['s']);
  const recordsOf = (...ok: Array<boolean | 'fatal'>): CallOutcome => ({
    kind: 'records',
    records: ok.map((o) =>
      o === true
        ? { ok: true, recordId: 'r' }
        : o === false
          ? { ok: false, code: 'ServiceUnavailableException', message: '', retryable: true }
          : { ok: false, code: 'KMS.DisabledException', message: '', retryable: false },
    ),
  });

  it('acks the messages of a record that landed', () => {
    const d = decide(sent(plan, recordsOf(true)), []);
    expect([...d.values()]).toEqual([
      { kind: 'ack', stream: 's' },
      { kind: 'ack', stream: 's' },
    ]);
  });

  it('retries the messages of a failed record and dead-letters a non-retryable one', () => {
    expect([...decide(sent(plan, recordsOf(false)), []).values()]).toEqual([
      { kind: 'retry', code: 'ServiceUnavailableException', cause: 'transient' },
      { kind: 'retry', code: 'ServiceUnavailableException', cause: 'transient' },
    ]);
    expect(decide(sent(plan, recordsOf('fatal')), []).get(0)).toEqual({
      kind: 'dead',
      reason: 'KMS.DisabledException',
    });
  });

  it('keeps the cause of a whole-call retry: throttled, refused credentials, or ambiguous', () => {
    for (const cause of ['transient', 'auth', 'ambiguous'] as const) {
      expect(
        decide(sent(plan, { kind: 'retry', code: 'X', message: '', cause }), []).get(1),
      ).toEqual({
        kind: 'retry',
        code: 'X',
        cause,
      });
    }
  });

  it('dead-letters every message of a fatal call, and of one too large to split', () => {
    expect(
      decide(sent(plan, { kind: 'fatal', code: 'ResourceNotFoundException', message: '' }), []).get(
        0,
      ),
    ).toEqual({
      kind: 'dead',
      reason: 'ResourceNotFoundException',
    });
    expect(
      decide(sent(plan, { kind: 'too_large', code: 'HTTP413', message: '' }), []).get(0),
    ).toEqual({
      kind: 'dead',
      reason: 'message_too_large_for_firehose: HTTP413',
    });
  });

  it('dead-letters the messages the plan found unsendable', () => {
    expect(decide([], [{ index: 7, reason: 'message_larger_than_a_record' }]).get(7)).toEqual({
      kind: 'dead',
      reason: 'message_larger_than_a_record',
    });
  });
});

describe('dead letters', () => {
  const original = decodeMessage(body('web', ['{"messageId":"m1"}', '{"messageId":"m2"}']));
  if (original === undefined) throw new Error('decode');

  it('round-trips the reason, attempts, ids and token through the DLQ message', () => {
    const dl = decodeMessage(
      encodeDeadLetter(
        original,
        { reason: 'ResourceNotFoundException', attempts: 3, at: AT + 5 },
        'q-1',
      ),
    );
    expect(dl?.header.deadLetter).toEqual({
      reason: 'ResourceNotFoundException',
      attempts: 3,
      at: AT + 5,
    });
    expect(dl?.header.token).toBe('q-1');
    expect(dl?.header.ids).toEqual(['m1', 'm2']);
    expect(dl?.ndjson).toBe(original.ndjson);
  });

  it('dead-letters only the lines left after deduplication', () => {
    const dl = decodeMessage(
      encodeDeadLetter(original, { reason: 'X', attempts: 1, at: AT }, 'q-1', {
        lines: ['{"messageId":"m2"}'],
        ids: ['m2'],
      }),
    );
    expect([dl?.header.events, dl?.header.ids, dl?.ndjson]).toEqual([
      1,
      ['m2'],
      '{"messageId":"m2"}\n',
    ]);
  });

  it('archives one line per event with reason, attempts, token and the event as queued', () => {
    const dl = decodeMessage(
      encodeDeadLetter(original, { reason: 'X', attempts: 21, at: AT }, 'q-1'),
    );
    if (dl === undefined) throw new Error('decode');
    const lines = archiveLines(dl, AT + 1000, 1, 'dlq-9')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      {
        reason: 'X',
        attempts: 21,
        source: 'web',
        receivedAt: '2026-11-29T10:00:00.000Z',
        deadLetteredAt: '2026-11-29T10:00:00.000Z',
        archiveAttempts: 1,
        token: 'q-1',
        event: { messageId: 'm1' },
      },
      expect.objectContaining({ event: { messageId: 'm2' } }),
    ]);
  });

  it('names messages Queues dead-lettered itself max_retries_exhausted, with their own id', () => {
    const line = JSON.parse(archiveLines(original, AT, 1, 'dlq-9').split('\n')[0] ?? '') as Record<
      string,
      unknown
    >;
    expect([line['reason'], line['attempts'], line['token']]).toEqual([
      'max_retries_exhausted',
      null,
      'dlq-9',
    ]);
  });

  it('keeps a body that is not ours whole', () => {
    expect(JSON.parse(undecodableLine('junk', AT))).toEqual({
      reason: 'undecodable',
      deadLetteredAt: '2026-11-29T10:00:00.000Z',
      raw: 'junk',
    });
  });

  it('archives a poison body that cannot be serialised instead of throwing', () => {
    const poison = {
      toJSON: (): never => {
        throw new RangeError('Maximum call stack size exceeded');
      },
    };
    const line = JSON.parse(undecodableLine(poison, AT)) as Record<string, unknown>;
    expect(line['reason']).toBe('undecodable');
    expect(typeof line['raw']).toBe('string');
  });

  it('keys archives by hour like Firehose does', () => {
    expect(archiveKey(AT, 'abc')).toBe(
      'dead-letters/2026/11/29/10/2026-11-29T100000000Z-abc.ndjson',
    );
  });
});
