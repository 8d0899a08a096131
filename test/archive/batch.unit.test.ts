import { describe, expect, it } from 'vitest';
import { afterFailure, planArchive, type LetterInput } from '../../src/archive/batch';
import { encodeDeadLetter } from '../../src/archive/format';
import {
  ARCHIVE_QUEUE_MAX_RETRIES,
  ARCHIVE_REQUEUE_AFTER_MS,
  ARCHIVE_REQUEUE_FROM_ATTEMPT,
} from '../../src/archive/limits';
import { decodeMessage } from '../../src/queue/message';
import { packMessages, type PackEvent } from '../../src/queue/pack';

const AT = Date.parse('2026-11-29T10:00:00.000Z');
const SENT = Date.parse('2026-11-29T09:00:00.000Z');
const OPTIONS = { at: AT, batchId: 'b1', prefix: 'dead-letters/', releaseMoved: true };

const event = (id: string, blocked?: string): PackEvent => ({
  line: JSON.stringify({ messageId: id }),
  messageId: id,
  ...(blocked === undefined ? {} : { blocked }),
});

function message(source: string, events: PackEvent[]): string {
  const [m] = packMessages(events, { source, receivedAt: AT - 1000 });
  return m?.body ?? '';
}

function letter(source: string, events: PackEvent[], reason = 'X'): string {
  const decoded = decodeMessage(message(source, events));
  if (decoded === undefined) throw new Error('pack');
  return encodeDeadLetter(decoded, { reason, attempts: 21, at: AT - 500 }, 'tok');
}

const input = (body: unknown, id = 'q1'): LetterInput => ({
  body,
  attempts: 1,
  id,
  timestamp: SENT,
});

describe('planArchive', () => {
  it('puts dead letters in one object, first, and blocked lines in one object per source', () => {
    const plan = planArchive(
      [
        input(letter('web', [event('a'), event('b', 'violation')]), 'q1'),
        input(letter('ios', [event('c', 'unplanned_event')]), 'q2'),
        input('junk', 'q3'),
      ],
      OPTIONS,
    );
    expect(plan.objects.map((o) => [o.key, o.events, o.messages])).toEqual([
      ['dead-letters/2026/11/29/10/2026-11-29T100000000Z-b1.ndjson', 2, [0, 2]],
      ['blocked/web/2026/11/29/10/2026-11-29T100000000Z-b1.ndjson', 1, [0]],
      ['blocked/ios/2026/11/29/10/2026-11-29T100000000Z-b1.ndjson', 1, [1]],
    ]);
    const blocked = JSON.parse(plan.objects[1]?.text ?? '') as Record<string, unknown>;
    expect(blocked).toMatchObject({
      reason: 'blocked: violation',
      attempts: 0,
      token: 'tok',
      event: { messageId: 'b' },
    });
    expect(plan.moved).toEqual([]);
  });

  it('gives a letter Queues moved itself objects named by its message, and its keys to release', () => {
    const plan = planArchive(
      [input(message('web', [event('m1'), event('m2', 'violation')]), 'q-moved')],
      OPTIONS,
    );
    expect(plan.objects.map((o) => o.key)).toEqual([
      'dead-letters/2026/11/29/09/2026-11-29T090000000Z-q-moved.ndjson',
      'blocked/web/2026/11/29/09/2026-11-29T090000000Z-q-moved.ndjson',
    ]);
    expect(plan.moved).toEqual([{ message: 0, source: 'web', ids: ['m1'] }]);
    expect(JSON.parse(plan.objects[0]?.text ?? '')).toMatchObject({
      reason: 'max_retries_exhausted',
      token: 'q-moved',
    });
  });

  it('batches moved letters like the others when nothing is released (forward DLQ, dedupe off)', () => {
    const plan = planArchive([input(message('web', [event('m1')]))], {
      ...OPTIONS,
      releaseMoved: false,
    });
    expect(plan.objects.map((o) => o.key)).toEqual([
      'dead-letters/2026/11/29/10/2026-11-29T100000000Z-b1.ndjson',
    ]);
    expect(plan.moved).toEqual([]);
  });
});

describe('afterFailure', () => {
  it('retries until ARCHIVE_REQUEUE_FROM_ATTEMPT, then requeues, well before the last attempt', () => {
    expect(afterFailure(1, 0)).toBe('retry');
    expect(afterFailure(ARCHIVE_REQUEUE_FROM_ATTEMPT - 1, 0)).toBe('retry');
    expect(afterFailure(ARCHIVE_REQUEUE_FROM_ATTEMPT, 0)).toBe('requeue');
    expect(afterFailure(ARCHIVE_QUEUE_MAX_RETRIES + 1, 0)).toBe('requeue');
    expect(ARCHIVE_REQUEUE_FROM_ATTEMPT).toBeLessThan(ARCHIVE_QUEUE_MAX_RETRIES);
  });

  it('requeues a message a day old whatever its attempts, long before Queues would expire it', () => {
    expect(afterFailure(2, ARCHIVE_REQUEUE_AFTER_MS - 1)).toBe('retry');
    expect(afterFailure(2, ARCHIVE_REQUEUE_AFTER_MS)).toBe('requeue');
    // Queues' default retention: 4 days.
    expect(ARCHIVE_REQUEUE_AFTER_MS).toBeLessThan(4 * 24 * 3600_000);
  });
});
