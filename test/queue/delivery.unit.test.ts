import { describe, expect, it } from 'vitest';
import type { CallOutcome } from '../../src/firehose/codec';
import {
  archiveKey,
  archiveLines,
  encodeDeadLetter,
  undecodableLine,
} from '../../src/queue/dead-letter';
import { decide, planDelivery } from '../../src/queue/delivery';
import { decodeMessage } from '../../src/queue/message';
import { packMessages } from '../../src/queue/pack';

const AT = Date.parse('2026-11-29T10:00:00.000Z');

function body(source: string, lines: string[]): string {
  const [m] = packMessages(lines, source, AT);
  if (m === undefined) throw new Error('no message');
  return m.body;
}

describe('planDelivery', () => {
  it('routes each message by source and marks bodies that are not ours', () => {
    const plan = planDelivery(
      [body('web', ['{"a":1}']), 'garbage', body('ios', ['{"b":2}', '{"c":3}'])],
      ['s1', 's2'],
    );
    expect(plan.unsendable).toEqual([{ index: 1, reason: 'undecodable_message' }]);
    const byIndex = new Map(
      plan.calls.flatMap((c) => c.records.flatMap((r) => r.messages.map((m) => [m, c.stream]))),
    );
    expect([...byIndex.keys()].sort()).toEqual([0, 2]);
    const data = plan.calls.flatMap((c) => c.records.map((r) => r.data)).join('');
    expect(data.split('\n').filter(Boolean).sort()).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });
});

describe('decide', () => {
  const plan = planDelivery([body('web', ['{"a":1}']), body('web', ['{"b":1}'])], ['s']);
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
    const d = decide(plan, [recordsOf(true)]);
    expect([...d.values()]).toEqual([
      { kind: 'ack', stream: 's' },
      { kind: 'ack', stream: 's' },
    ]);
  });

  it('retries the messages of a failed record and dead-letters a non-retryable one', () => {
    const twoRecords = planDelivery([body('web', ['{"a":1}']), body('web', ['{"b":1}'])], ['s']);
    // Force two records by re-planning with a tiny record limit is covered in pack tests; here
    // one record holds both messages, so one failed record retries both.
    expect([...decide(twoRecords, [recordsOf(false)]).values()]).toEqual([
      { kind: 'retry', code: 'ServiceUnavailableException' },
      { kind: 'retry', code: 'ServiceUnavailableException' },
    ]);
    expect([...decide(plan, [recordsOf('fatal')]).values()][0]).toEqual({
      kind: 'dead',
      reason: 'KMS.DisabledException',
    });
  });

  it('retries every message of a throttled call and dead-letters every message of a fatal one', () => {
    expect(
      decide(plan, [{ kind: 'retry', code: 'ServiceUnavailableException', message: '' }]).get(1),
    ).toEqual({
      kind: 'retry',
      code: 'ServiceUnavailableException',
    });
    expect(
      decide(plan, [{ kind: 'fatal', code: 'ResourceNotFoundException', message: '' }]).get(0),
    ).toEqual({
      kind: 'dead',
      reason: 'ResourceNotFoundException',
    });
  });
});

describe('dead letters', () => {
  const original = decodeMessage(body('web', ['{"messageId":"m1"}', '{"messageId":"m2"}']));
  if (original === undefined) throw new Error('decode');

  it('round-trips the reason and attempts through the DLQ message', () => {
    const dl = decodeMessage(
      encodeDeadLetter(original, { reason: 'ResourceNotFoundException', attempts: 3, at: AT + 5 }),
    );
    expect(dl?.header.deadLetter).toEqual({
      reason: 'ResourceNotFoundException',
      attempts: 3,
      at: AT + 5,
    });
    expect(dl?.ndjson).toBe(original.ndjson);
  });

  it('archives one line per event with reason, attempts and the event as queued', () => {
    const dl = decodeMessage(encodeDeadLetter(original, { reason: 'X', attempts: 21, at: AT }));
    if (dl === undefined) throw new Error('decode');
    const lines = archiveLines(dl, AT + 1000, 1)
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
        event: { messageId: 'm1' },
      },
      expect.objectContaining({ event: { messageId: 'm2' } }),
    ]);
  });

  it('names messages Queues dead-lettered itself max_retries_exhausted', () => {
    const line = JSON.parse(archiveLines(original, AT, 1).split('\n')[0] ?? '') as Record<
      string,
      unknown
    >;
    expect([line['reason'], line['attempts']]).toEqual(['max_retries_exhausted', null]);
  });

  it('keeps a body that is not ours whole', () => {
    expect(JSON.parse(undecodableLine('junk', AT))).toEqual({
      reason: 'undecodable',
      deadLetteredAt: '2026-11-29T10:00:00.000Z',
      raw: 'junk',
    });
  });

  it('keys archives by hour like Firehose does', () => {
    expect(archiveKey(AT, 'abc')).toBe(
      'dead-letters/2026/11/29/10/2026-11-29T100000000Z-abc.ndjson',
    );
  });
});
