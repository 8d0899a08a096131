// What the debugger captures of one ingest request: one entry per event, accepted as queued,
// rejected as received with its error, the write key never included, large payloads truncated.
import { describe, expect, it } from 'vitest';
import {
  capturedEvents,
  newTrace,
  rejectedEvents,
  shownPayload,
  utf8Prefix,
  type IngestTrace,
} from '../../src/debugger/capture';
import { DEBUGGER_PAYLOAD_MAX_BYTES } from '../../src/debugger/limits';
import { enforcePlan } from '../../src/plans/enforce';
import { parsePlan, type CompiledPlan } from '../../src/plans/plan';
import { ingestError } from '../../src/segment/errors';
import { ingestBatch, ingestSingle, parseBatchEnvelope } from '../../src/segment/ingest';
import { utf8Length } from '../../src/segment/utf8';
import { callOfSize, SEED_TRACK, SEED_WRITE_KEY, VALID_CALLS } from '../fixtures/calls';
import { planFor } from '../plans/fixtures';

const NOW = Date.parse('2026-11-29T10:00:00.000Z');
const facts = { receivedAt: NOW };
const opts = { source: 'ndc-demo', anonymizeIp: false, newId: () => 'generated-1' };

function singleTrace(raw: Record<string, unknown>, queued = true): IngestTrace {
  const trace: IngestTrace = {
    ...newTrace(NOW),
    source: 'ndc-demo',
    writeKey: SEED_WRITE_KEY,
    single: { raw, pathType: 'track' },
  };
  const result = ingestSingle(raw, 'track', facts, opts);
  if (result.ok) {
    trace.outcome = { accepted: [result.value], rejected: [] };
    trace.queued = queued;
  } else {
    trace.error = result.error;
  }
  return trace;
}

function batchTrace(items: unknown[], extra: Partial<IngestTrace> = {}): IngestTrace {
  const envelope = parseBatchEnvelope({ batch: items, writeKey: SEED_WRITE_KEY });
  if (!envelope.ok) throw new Error(envelope.error.message);
  const outcome = ingestBatch(envelope.value, 1000, facts, opts);
  if (!outcome.ok) throw new Error(outcome.error.message);
  return {
    ...newTrace(NOW),
    source: 'ndc-demo',
    writeKey: SEED_WRITE_KEY,
    items,
    outcome: outcome.value,
    queued: true,
    ...extra,
  };
}

describe('capturedEvents', () => {
  it('captures an accepted call as queued: enriched, with the source instead of the write key', () => {
    const [e, ...rest] = capturedEvents(singleTrace(SEED_TRACK));
    expect(rest).toEqual([]);
    expect(e).toMatchObject({
      receivedAt: '2026-11-29T10:00:00.000Z',
      status: 'accepted',
      source: 'ndc-demo',
      type: 'track',
      event: 'NDC',
      messageId: 'generated-1',
      error: null,
      truncated: false,
    });
    expect(e?.payload).toMatchObject({
      event: 'NDC',
      source: 'ndc-demo',
      receivedAt: '2026-11-29T10:00:00.000Z',
      messageId: 'generated-1',
    });
    expect(JSON.stringify(e)).not.toContain(SEED_WRITE_KEY);
  });

  it('captures a refused call as received, with its error and without its writeKey', () => {
    const { event: _e, ...noEvent } = SEED_TRACK;
    const [e] = capturedEvents(singleTrace(noEvent));
    expect(e).toMatchObject({
      status: 'rejected',
      type: 'track',
      event: null,
      error: { code: 'missing_field', field: '.event' },
    });
    expect(e?.payload).toMatchObject({ anonymousId: SEED_TRACK.anonymousId });
    expect(e?.payload).not.toHaveProperty('writeKey');
    expect(JSON.stringify(e)).not.toContain(SEED_WRITE_KEY);
  });

  it("names a refused call's event when the payload has one, though it has no type field", () => {
    const { anonymousId: _a, type: _t, ...noIdentity } = SEED_TRACK;
    const [e] = capturedEvents(singleTrace(noIdentity));
    expect(e).toMatchObject({ status: 'rejected', type: 'track', event: 'NDC' });
    expect(e?.error?.code).toBe('missing_field');
  });

  it('blanks the write key wherever else it appears', () => {
    const call = { ...SEED_TRACK, properties: { copied: `key=${SEED_WRITE_KEY}` } };
    const [accepted] = capturedEvents(singleTrace(call));
    const [rejected] = capturedEvents(singleTrace({ ...call, event: 7 }));
    for (const e of [accepted, rejected]) {
      expect(JSON.stringify(e)).not.toContain(SEED_WRITE_KEY);
      expect(e?.payload).toMatchObject({ properties: { copied: 'key=[write key]' } });
    }
  });

  it('captures an accepted call whose send to the queue failed as rejected, with that error', () => {
    const trace = singleTrace(SEED_TRACK, false);
    trace.error = ingestError('queue_unavailable', 'the event queue is unavailable; retry later');
    const [e] = capturedEvents(trace);
    expect(e).toMatchObject({ status: 'rejected', error: { code: 'queue_unavailable' } });
    expect(e?.payload).toMatchObject({ event: 'NDC' });
    expect(e?.payload).not.toHaveProperty('receivedAt'); // as received, not as enriched
  });

  it('captures each item of a batch in order: accepted as queued, rejected with its own error', () => {
    const items = [
      { ...VALID_CALLS.track, messageId: 'a' },
      { type: 'track', userId: 'u', messageId: 'b' },
      { ...VALID_CALLS.page, messageId: 'c', writeKey: SEED_WRITE_KEY },
    ];
    const events = capturedEvents(batchTrace(items));
    expect(events.map((e) => [e.messageId, e.status, e.type, e.event, e.error?.code])).toEqual([
      ['a', 'accepted', 'track', 'NDC', undefined],
      ['b', 'rejected', 'track', null, 'missing_field'],
      ['c', 'accepted', 'page', 'Home', undefined],
    ]);
    expect(JSON.stringify(events)).not.toContain(SEED_WRITE_KEY);
  });

  it('captures every item of a batch refused as a whole with the refusal, own errors kept', () => {
    const items = [VALID_CALLS.track, { type: 'track' }];
    const refused = batchTrace(items, {
      queued: false,
      error: ingestError('rate_limited', 'too many events for this source'),
    });
    expect(capturedEvents(refused).map((e) => [e.status, e.error?.code])).toEqual([
      ['rejected', 'rate_limited'],
      ['rejected', 'missing_field'],
    ]);
    // Refused before ingest ran (a rate limit): every item carries the refusal.
    const early: IngestTrace = {
      ...newTrace(NOW),
      source: 'ndc-demo',
      items,
      error: ingestError('rate_limited', 'too many events for this source'),
    };
    expect(capturedEvents(early).map((e) => e.error?.code)).toEqual([
      'rate_limited',
      'rate_limited',
    ]);
  });

  it('captures a body that is not JSON as one rejected entry holding its text', () => {
    const trace: IngestTrace = {
      ...newTrace(NOW),
      source: 'ndc-demo',
      writeKey: SEED_WRITE_KEY,
      text: `{"writeKey":"${SEED_WRITE_KEY}",`,
      error: ingestError('invalid_json', 'the body is not valid JSON'),
    };
    expect(capturedEvents(trace)).toEqual([
      {
        receivedAt: '2026-11-29T10:00:00.000Z',
        status: 'rejected',
        source: 'ndc-demo',
        type: null,
        event: null,
        messageId: null,
        error: { code: 'invalid_json', message: 'the body is not valid JSON' },
        payload: '{"writeKey":"[write key]",',
        truncated: false,
        bytes: 26,
      },
    ]);
  });

  it('captures nothing of a request that never got a source', () => {
    const trace = singleTrace(SEED_TRACK);
    delete trace.source;
    expect(capturedEvents(trace)).toEqual([]);
  });

  it('builds only the first `limit` entries', () => {
    const items = Array.from({ length: 5 }, (_, i) => ({
      ...VALID_CALLS.track,
      messageId: `${i}`,
    }));
    expect(capturedEvents(batchTrace(items), 2).map((e) => e.messageId)).toEqual(['0', '1']);
    expect(capturedEvents(singleTrace(SEED_TRACK), 0)).toEqual([]);
  });
});

describe('shownPayload', () => {
  it(`truncates a payload over ${DEBUGGER_PAYLOAD_MAX_BYTES} bytes and says so`, () => {
    const big = callOfSize(VALID_CALLS.track, 20_000);
    const shown = shownPayload(big, undefined, undefined);
    expect(shown.truncated).toBe(true);
    expect(shown.bytes).toBe(20_000);
    expect(typeof shown.payload).toBe('string');
    expect(utf8Length(shown.payload as string)).toBe(DEBUGGER_PAYLOAD_MAX_BYTES);
    expect(JSON.stringify(big).startsWith(shown.payload as string)).toBe(true);
    const small = shownPayload(VALID_CALLS.track, undefined, undefined);
    expect(small).toEqual({
      payload: VALID_CALLS.track,
      truncated: false,
      bytes: JSON.stringify(VALID_CALLS.track).length,
    });
  });
});

describe('utf8Prefix', () => {
  it('cuts at a character boundary, never inside a multi-byte character', () => {
    expect(utf8Prefix('abc', 2)).toBe('ab');
    expect(utf8Prefix('aé', 2)).toBe('a'); // é is 2 bytes
    expect(utf8Prefix('a😀b', 4)).toBe('a'); // the emoji is 4 bytes (a surrogate pair)
    expect(utf8Prefix('a😀b', 5)).toBe('a😀');
  });
});

describe('capturedEvents under a tracking plan', () => {
  const plan = (violations: string): CompiledPlan => {
    const r = parsePlan(planFor(violations));
    if (!r.ok) throw new Error(r.error.message);
    return r.value.compiled;
  };
  const order = (total: unknown, messageId: string): Record<string, unknown> => ({
    type: 'track',
    event: 'Order Completed',
    userId: 'u1',
    messageId,
    properties: { total },
  });

  it('shows a blocked event as rejected (code blocked), the others as delivered, in order', () => {
    const trace = batchTrace([order(10, 'ok-1'), order('ten', 'bad-2'), order(30, 'ok-3')]);
    trace.plan = enforcePlan(plan('block'), trace.outcome?.accepted ?? []);
    const shown = capturedEvents(trace);
    expect(shown.map((e) => [e.messageId, e.status, e.error?.code ?? null])).toEqual([
      ['ok-1', 'accepted', null],
      ['bad-2', 'rejected', 'blocked'],
      ['ok-3', 'accepted', null],
    ]);
    expect(shown[1]?.error?.message).toContain('violation');
  });

  it('shows an event as the plan delivered it: omitted properties gone, violations annotated', () => {
    const trace = batchTrace([order('ten', 'bad-1'), order(20, 'ok-2')]);
    trace.plan = enforcePlan(plan('omit'), trace.outcome?.accepted ?? []);
    const [bad, ok] = capturedEvents(trace);
    expect(bad?.status).toBe('accepted');
    const payload = bad?.payload as { properties: object; context: { violations?: unknown[] } };
    expect(payload.properties).toEqual({});
    expect(payload.context.violations?.length).toBeGreaterThan(0);
    expect((ok?.payload as { properties: object }).properties).toEqual({ total: 20 });
  });

  it('shows a single call the plan blocked as rejected', () => {
    const trace = singleTrace(order('ten', 'bad-single'));
    trace.plan = enforcePlan(plan('block'), trace.outcome?.accepted ?? []);
    expect(capturedEvents(trace).map((e) => [e.status, e.error?.code])).toEqual([
      ['rejected', 'blocked'],
    ]);
  });
});

describe('rejectedEvents', () => {
  const envelope = parseBatchEnvelope({ batch: [VALID_CALLS.track, { type: 'track' }, {}] });
  if (!envelope.ok) throw new Error('the fixture batch must parse');

  it("counts a batch's invalid items, and nothing when all were accepted", () => {
    const trace = newTrace(0);
    trace.items = envelope.value.items;
    trace.outcome = { accepted: [], rejected: [] };
    expect(rejectedEvents(trace)).toBe(0);
    trace.outcome = {
      accepted: [],
      rejected: [
        { index: 1, code: 'missing_field', message: 'm' },
        { index: 2, code: 'missing_field', message: 'm' },
      ],
    };
    expect(rejectedEvents(trace)).toBe(2);
  });

  it('counts every item of a request refused whole, and a refused single call as one', () => {
    const trace = newTrace(0);
    trace.items = envelope.value.items;
    trace.error = ingestError('rate_limited', 'too many');
    expect(rejectedEvents(trace)).toBe(3);
    expect(rejectedEvents({ ...newTrace(0), error: ingestError('invalid_json', 'bad') })).toBe(1);
  });
});
