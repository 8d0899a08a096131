// Property-based checks of the pure core against arbitrary input (fast-check): validation and
// enrichment never throw, always answer with a reason from the vocabulary, and never let a
// `__proto__` or `constructor` key reach a prototype.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { enrichEvent } from '../../src/segment/enrich';
import { ingestBatch, parseBatchEnvelope } from '../../src/segment/ingest';
import { mergeUnder } from '../../src/segment/merge';
import { parseIsoTimestamp } from '../../src/segment/timestamp';
import { EVENT_TYPES, type JsonObject } from '../../src/segment/types';
import { validateEvent } from '../../src/segment/validate';
import { basicAuthWriteKey } from '../../src/segment/write-keys';
import { VALID_CALLS } from '../fixtures/calls';

const REASONS = new Set([
  'invalid_json',
  'invalid_body',
  'missing_field',
  'invalid_field',
  'invalid_timestamp',
  'type_mismatch',
  'unknown_type',
  'event_too_large',
]);
const facts = {
  receivedAt: Date.parse('2026-11-29T10:00:00Z'),
  ip: '203.0.113.1',
  userAgent: 'ua',
};
const opts = { source: 'web', anonymizeIp: true, newId: () => 'id' };
const pathType = fc.option(fc.constantFrom(...EVENT_TYPES), { nil: undefined });
const hostileKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'type',
  'userId',
  'event',
  'context',
  'properties',
);

/** JSON values with hostile keys mixed in, as JSON.parse would produce them. */
const hostileJson = fc.jsonValue({ maxDepth: 4 }).chain((v) =>
  fc.tuple(fc.constant(v), hostileKey, fc.jsonValue({ maxDepth: 3 })).map(([base, key, value]) => {
    const text = JSON.stringify(base);
    if (text.startsWith('{') && text !== '{}') {
      return JSON.parse(
        `{${JSON.stringify(key)}:${JSON.stringify(value)},${text.slice(1)}`,
      ) as unknown;
    }
    return base;
  }),
);

/** A valid call with one field replaced by an arbitrary value. */
const mutatedCall = fc
  .tuple(
    fc.constantFrom(...EVENT_TYPES),
    fc.constantFrom(
      'type',
      'userId',
      'anonymousId',
      'event',
      'groupId',
      'previousId',
      'properties',
      'traits',
      'context',
      'integrations',
      'timestamp',
      'sentAt',
      'messageId',
      'name',
    ),
    fc.anything(),
  )
  .map(([type, field, value]) => ({ type, call: { ...VALID_CALLS[type], [field]: value } }));

describe('validateEvent on arbitrary input', () => {
  it('never throws and answers ok or a known reason with a message', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), hostileJson), pathType, (raw, type) => {
        const r = validateEvent(raw, type);
        if (!r.ok) {
          expect(REASONS.has(r.error.reason)).toBe(true);
          expect(r.error.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('names the field when one field of a valid call has a wrong type', () => {
    fc.assert(
      fc.property(mutatedCall, ({ type, call }) => {
        const r = validateEvent(call, type);
        if (!r.ok && r.error.reason !== 'invalid_body')
          expect(r.error.field).toMatch(/^\.[A-Za-z]+$/);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('enrichment and batches on arbitrary input', () => {
  it('never throws, never mutates the input, never pollutes a prototype', () => {
    fc.assert(
      fc.property(hostileJson, hostileJson, (item, batchContext) => {
        const call = { ...VALID_CALLS.track, context: item, properties: item };
        const before = JSON.stringify(call);
        const valid = validateEvent(call, 'track');
        if (valid.ok) {
          const defaults =
            typeof batchContext === 'object' &&
            batchContext !== null &&
            !Array.isArray(batchContext)
              ? { context: batchContext as JsonObject }
              : {};
          const out = enrichEvent(valid.value, facts, opts, defaults);
          expect(typeof JSON.stringify(out)).toBe('string');
        }
        expect(JSON.stringify(call)).toBe(before);
        expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
        expect(Object.getPrototypeOf({})).toBe(Object.prototype);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps every valid item of a batch whatever garbage surrounds it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.anything(), fc.constant(VALID_CALLS.track)), { maxLength: 30 }),
        (items) => {
          const env = parseBatchEnvelope({ batch: items.length > 0 ? items : [1] });
          if (!env.ok) return;
          const result = ingestBatch(env.value, 1000, facts, opts);
          if (!result.ok) throw new Error(result.error.message);
          const out = result.value;
          expect(out.accepted.length + out.rejected.length).toBe(env.value.items.length);
          const validCount = env.value.items.filter((i) => validateEvent(i, undefined).ok).length;
          expect(out.accepted).toHaveLength(validCount);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('merges __proto__ keys as data', () => {
    fc.assert(
      fc.property(hostileJson, hostileJson, (a, b) => {
        if (typeof a !== 'object' || a === null || Array.isArray(a)) return;
        if (typeof b !== 'object' || b === null || Array.isArray(b)) return;
        const merged = mergeUnder(a as JsonObject, b as JsonObject);
        expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parsers on arbitrary strings', () => {
  it('timestamps and Authorization headers never throw', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        const ts = parseIsoTimestamp(s);
        if (ts !== undefined) expect(Number.isFinite(ts)).toBe(true);
        const auth = basicAuthWriteKey(s);
        expect(typeof auth.ok).toBe('boolean');
        const basic = basicAuthWriteKey(`Basic ${s}`);
        expect(typeof basic.ok).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });
});
