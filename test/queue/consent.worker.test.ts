// The events consumer's one privacy decision: a message whose header restricts its sinks
// (consent, src/privacy/) goes to Firehose, the forward copy, or both, and no further. Checked
// against the real local Firehose with a recording forward queue; then the restriction through
// a dead letter, the archive and its replay.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/env';
import type { Sink } from '../../src/privacy/policy';
import { deliverBatch, type ConsumerDeps } from '../../src/queue/consumer';
import { archiveLines, encodeDeadLetter } from '../../src/archive/format';
import { decodeMessage } from '../../src/queue/message';
import { packMessages } from '../../src/queue/pack';
import { parseArchive } from '../../src/archive/parse';
import { landedEvents, uniqueStream } from '../support/firehose';
import { captureErrors } from '../support/console';
import { forwardEndpoint } from '../support/segment';
import { recordingQueue, type RecordingQueue } from '../support/worker';

const RECEIVED = Date.parse('2026-11-29T10:00:00.000Z');
const deps: ConsumerDeps = { now: () => RECEIVED + 1000, random: () => 0.5, newId: () => 'id' };

function message(ids: string[], sinks?: Sink[]): string {
  const events = ids.map((id) => ({
    line: JSON.stringify({ type: 'track', messageId: id, source: 'web' }),
    messageId: id,
  }));
  const [m] = packMessages(events, {
    source: 'web',
    receivedAt: RECEIVED,
    ...(sinks === undefined ? {} : { sinks }),
  });
  if (m === undefined) throw new Error('pack');
  return m.body;
}

async function deliver(
  stream: string,
  forward: RecordingQueue,
  bodies: Array<[id: string, body: string]>,
  overrides: Partial<Env> = {},
): Promise<FetcherQueueResult> {
  const batch = createMessageBatch<unknown>(
    'ndc-segment-events',
    bodies.map(([id, body]) => ({ id, timestamp: new Date(RECEIVED), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  const testEnv: Env = {
    ...(env as unknown as Env),
    FIREHOSE_STREAM: stream,
    FORWARD_ENDPOINT: forwardEndpoint(),
    FORWARD_WRITE_KEYS: 'web=dest-web',
    FORWARD: forward.queue,
    DLQ: recordingQueue().queue,
    ...overrides,
  };
  await deliverBatch(batch, testEnv, deps);
  return getQueueResult(batch, ctx);
}

const ids = (events: Array<Record<string, unknown>>): string[] =>
  events.map((e) => String(e['messageId'])).sort();

describe('deliverBatch and consent', () => {
  it('sends firehose-only events to Firehose alone and forward-only ones to the copy alone', async () => {
    const stream = uniqueStream('consent');
    const forward = recordingQueue();
    const result = await deliver(stream, forward, [
      ['m0', message(['f1'], ['firehose'])],
      ['m1', message(['w1'], ['forward'])],
      ['m2', message(['b1'])],
    ]);
    expect(result.explicitAcks.sort()).toEqual(['m0', 'm1', 'm2']);
    expect(ids(await landedEvents(stream))).toEqual(['b1', 'f1']);
    expect(ids(forward.events())).toEqual(['b1', 'w1']);
  });

  it('holds back a forward-only message whose copy the forward queue refused, its restriction kept', async () => {
    const errors = captureErrors();
    const stream = uniqueStream('consent-fail');
    const forward = recordingQueue({ fail: true });
    const events = recordingQueue();
    const result = await deliver(stream, forward, [['m0', message(['w2'], ['forward'])]], {
      EVENTS: events.queue,
    });
    // A waiting failure (src/queue/step.ts): a fresh copy goes back on the events queue, with
    // the same sinks, and the original is acked.
    expect(result.explicitAcks).toEqual(['m0']);
    const [copy] = events.calls.flat();
    const requeued = decodeMessage(copy);
    expect(requeued?.header.sinks).toEqual(['forward']);
    expect(requeued?.header.wait).toBe('queue');
    expect(requeued?.ndjson).toContain('"w2"');
    expect(await landedEvents(stream)).toEqual([]);
    expect(errors).toHaveBeenCalledWith(
      'forward copy send failed',
      'Queue sendBatch failed: simulated outage',
    );
  });

  it('acks a forward-only message of a source not forwarded: it has no sink left', async () => {
    const stream = uniqueStream('consent-off');
    const forward = recordingQueue();
    const result = await deliver(stream, forward, [['m0', message(['w3'], ['forward'])]], {
      FORWARD_WRITE_KEYS: 'other=dest',
    });
    expect(result.explicitAcks).toEqual(['m0']);
    expect(forward.calls).toEqual([]);
    expect(await landedEvents(stream)).toEqual([]);
  });

  it('keeps the restriction through a dead letter, the archive and a replay', () => {
    const decoded = decodeMessage(message(['d1'], ['firehose']));
    if (decoded === undefined) throw new Error('decode');
    const dead = decodeMessage(
      encodeDeadLetter(decoded, { reason: 'ResourceNotFoundException', attempts: 3, at: 1 }, 't'),
    );
    expect(dead?.header.sinks).toEqual(['firehose']);
    if (dead === undefined) throw new Error('decode');
    const archived = parseArchive(archiveLines(dead, RECEIVED, 1, 'q'));
    expect(archived.groups.map((g) => [g.sinks, g.events.length])).toEqual([[['firehose'], 1]]);
  });
});
