import { describe, expect, it } from 'vitest';
import {
  FORWARD_LIMITS,
  decideForward,
  planForward,
  refusalReason,
  type ForwardInput,
  type ForwardLimits,
} from '../../src/forward/batch';
import type { ForwardCallOutcome } from '../../src/forward/codec';
import { utf8Length } from '../../src/segment/utf8';

const KEYS = new Map([
  ['web', 'kw'],
  ['ios', 'ki'],
]);

function line(id: string, pad = 0, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: 'track',
    messageId: id,
    source: 'web',
    pad: 'p'.repeat(pad),
    ...extra,
  });
}

function input(index: number, source: string, ids: string[], pad = 0): ForwardInput {
  return { index, source, lines: ids.map((id) => line(`${id}`, pad)) };
}

const idsOf = (body: string): string[] =>
  (JSON.parse(body) as { batch: Array<{ messageId: string }> }).batch.map((e) => e.messageId);

describe('planForward', () => {
  it('posts each source in calls of its own, as {"batch":[…]} without our fields', () => {
    const plan = planForward(
      [input(0, 'web', ['a', 'b']), input(1, 'ios', ['c']), input(2, 'web', ['d'])],
      KEYS,
    );
    expect(plan.calls.map((c) => [c.source, idsOf(c.body), c.messages])).toEqual([
      ['web', ['a', 'b', 'd'], [0, 2]],
      ['ios', ['c'], [1]],
    ]);
    const [first] = plan.calls;
    expect(first?.bytes).toBe(utf8Length(first?.body ?? ''));
    expect(first?.body).not.toContain('"source"');
    expect(plan.refused.size).toBe(0);
    expect(plan.unkeyed).toEqual([]);
  });

  it('keeps every call within 500,000 bytes and a message whole in one call', () => {
    // 60 messages of 5 events of ~2,000 bytes: ~600 KB in all, so at least two calls.
    const inputs = Array.from({ length: 60 }, (_v, m) =>
      input(
        m,
        'web',
        Array.from({ length: 5 }, (_w, e) => `m${m}-e${e}`),
        2_000,
      ),
    );
    const plan = planForward(inputs, KEYS);
    expect(plan.calls.length).toBeGreaterThan(1);
    for (const call of plan.calls) {
      expect(call.bytes).toBe(utf8Length(call.body));
      expect(call.bytes).toBeLessThanOrEqual(FORWARD_LIMITS.maxBodyBytes);
    }
    const callsOf = (m: number) => plan.calls.filter((c) => c.messages.includes(m)).length;
    expect(inputs.every((i) => callsOf(i.index) === 1)).toBe(true);
    expect(plan.calls.flatMap((c) => idsOf(c.body))).toEqual(
      inputs.flatMap((i) => i.lines.map((l) => (JSON.parse(l) as { messageId: string }).messageId)),
    );
  });

  it('fills a call up to the byte limit exactly, and splits only a message too large for one', () => {
    const one = utf8Length(JSON.stringify({ type: 'track', messageId: 'x0', pad: 'p'.repeat(50) }));
    // Room for exactly three events: envelope (12) + 3 events + 2 commas.
    const limits: ForwardLimits = { ...FORWARD_LIMITS, maxBodyBytes: 12 + 3 * one + 2 };
    const plan = planForward([input(0, 'web', ['x0', 'x1', 'x2', 'x3', 'x4'], 50)], KEYS, limits);
    expect(plan.calls.map((c) => idsOf(c.body))).toEqual([
      ['x0', 'x1', 'x2'],
      ['x3', 'x4'],
    ]);
    expect(plan.calls.map((c) => c.bytes <= limits.maxBodyBytes)).toEqual([true, true]);
  });

  it('caps the events of a call', () => {
    const plan = planForward([input(0, 'web', ['a', 'b', 'c'])], KEYS, {
      ...FORWARD_LIMITS,
      maxEvents: 2,
    });
    expect(plan.calls.map((c) => idsOf(c.body))).toEqual([['a', 'b'], ['c']]);
  });

  it('refuses an event over 32,000 bytes and a line that is not an object, sending the rest', () => {
    const plan = planForward(
      [{ index: 0, source: 'web', lines: [line('small'), line('big', 32_000), '[]'] }],
      KEYS,
    );
    expect(plan.calls.map((c) => idsOf(c.body))).toEqual([['small']]);
    expect(plan.refused.get(0)).toEqual([
      { line: 1, reason: 'event_too_large', bytes: expect.any(Number) },
      { line: 2, reason: 'not_a_json_object' },
    ]);
    expect(plan.refused.get(0)?.[0]?.bytes).toBeGreaterThan(32_000);
    expect(refusalReason(plan.refused.get(0) ?? [])).toBe(
      `event_too_large: ${plan.refused.get(0)?.[0]?.bytes} bytes, over the destination's 32000; ` +
        'not_a_json_object: the destination takes JSON objects only',
    );
  });

  it('leaves out the messages of a source without a destination write key', () => {
    const plan = planForward([input(0, 'android', ['a']), input(1, 'web', ['b'])], KEYS);
    expect(plan.unkeyed).toEqual([0]);
    expect(plan.calls.map((c) => c.source)).toEqual(['web']);
  });
});

describe('decideForward', () => {
  const inputs = [input(0, 'web', ['a']), input(1, 'web', ['b']), input(2, 'ios', ['c'])];
  const plan = planForward(inputs, KEYS);
  const decide = (web: ForwardCallOutcome, ios: ForwardCallOutcome) =>
    decideForward([0, 1, 2], plan, [
      { call: plan.calls[0]!, outcome: web },
      { call: plan.calls[1]!, outcome: ios },
    ]);

  it('acks the messages of a call that delivered, and decides per call', () => {
    const decisions = decide(
      { kind: 'ok' },
      { kind: 'retry', code: 'http_429', cause: 'throttled', delaySeconds: 9 },
    );
    expect(Object.fromEntries(decisions)).toEqual({
      0: { kind: 'ack' },
      1: { kind: 'ack' },
      2: { kind: 'retry', code: 'http_429', cause: 'throttled', delaySeconds: 9 },
    });
  });

  it('dead-letters the messages of a call refused for good, with the reason', () => {
    const decisions = decide({ kind: 'dead', reason: 'http_400: bad' }, { kind: 'ok' });
    expect(decisions.get(0)).toEqual({ kind: 'dead', reason: 'http_400: bad' });
    expect(decisions.get(2)).toEqual({ kind: 'ack' });
  });

  it('acks a message with nothing left to send, and retries one without a write key', () => {
    const refusedOnly = planForward(
      [{ index: 0, source: 'web', lines: ['[]'] }, input(1, 'android', ['z'])],
      KEYS,
    );
    expect(Object.fromEntries(decideForward([0, 1], refusedOnly, []))).toEqual({
      0: { kind: 'ack' },
      1: { kind: 'retry', code: 'NoWriteKey', cause: 'not_configured' },
    });
  });

  it('retries a message split over calls after the longest Retry-After, or dead-letters it', () => {
    const big = planForward([input(0, 'web', ['a', 'b'])], KEYS, {
      ...FORWARD_LIMITS,
      maxEvents: 1,
    });
    const [first, second] = big.calls;
    expect(
      decideForward([0], big, [
        {
          call: first!,
          outcome: { kind: 'retry', code: 'http_429', cause: 'throttled', delaySeconds: 30 },
        },
        {
          call: second!,
          outcome: { kind: 'retry', code: 'http_503', cause: 'unavailable', delaySeconds: 5 },
        },
      ]).get(0),
    ).toEqual({ kind: 'retry', code: 'http_503', cause: 'unavailable', delaySeconds: 30 });
    expect(
      decideForward([0], big, [
        { call: first!, outcome: { kind: 'dead', reason: 'http_400' } },
        { call: second!, outcome: { kind: 'retry', code: 'Timeout', cause: 'ambiguous' } },
      ]).get(0),
    ).toEqual({ kind: 'dead', reason: 'http_400' });
  });
});
