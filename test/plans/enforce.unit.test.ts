import { describe, expect, it } from 'vitest';
import { checkEvent, enforcePlan, recheckEvent, type Verdict } from '../../src/plans/enforce';
import { VIOLATIONS_MAX_PER_EVENT } from '../../src/plans/limits';
import { parsePlan, type CompiledPlan } from '../../src/plans/plan';
import type { QueuedEvent } from '../../src/segment/ingest';
import type { EventType, JsonObject } from '../../src/segment/types';
import { eventOf, planFor } from './fixtures';

function compiled(plan: unknown): CompiledPlan {
  const r = parsePlan(plan);
  if (!r.ok) throw new Error(r.error.message);
  return r.value.compiled;
}

function annotation(v: Verdict): unknown {
  if (v.kind === 'pass') return undefined;
  return (v.event['context'] as JsonObject)['violations'];
}

const TYPES = ['track', 'identify', 'group', 'page', 'screen'] as const;
const fieldOf = (t: (typeof TYPES)[number]): string =>
  t === 'identify' || t === 'group' ? 'traits' : 'properties';

describe('checkEvent', () => {
  describe.each(TYPES)('on %s calls', (type) => {
    const field = fieldOf(type);
    const good = eventOf(type, { total: 12.5, coupon: 'X' });
    const bad = eventOf(type, { total: 'twelve', coupon: 'X', note: 'kept' });

    it.each(['allow', 'omit', 'block'])('lets a conforming call through unchanged (%s)', (mode) => {
      expect(checkEvent(compiled(planFor(mode)), good, type)).toEqual({ kind: 'pass' });
    });

    it('allow: delivers the call with its violation in context.violations', () => {
      const v = checkEvent(compiled(planFor('allow')), bad, type);
      expect(v.kind).toBe('changed');
      expect(annotation(v)).toEqual([
        {
          type: 'violation',
          path: `/${field}/total`,
          message: 'Instance type "string" is invalid. Expected "number".',
          keyword: 'type',
        },
      ]);
      expect(v.kind !== 'pass' && v.event[field]).toEqual(bad[field]);
    });

    it('omit: removes only the failing property, and says so', () => {
      const v = checkEvent(compiled(planFor('omit')), bad, type);
      expect(v.kind).toBe('changed');
      expect(v.kind !== 'pass' && v.event[field]).toEqual({ coupon: 'X', note: 'kept' });
      expect(annotation(v)).toEqual([
        expect.objectContaining({ path: `/${field}/total`, keyword: 'type', action: 'omitted' }),
        // Omitted, the required property is now missing: listed, and left as it is.
        {
          type: 'violation',
          path: `/${field}`,
          message: 'Instance does not have required property "total".',
          keyword: 'required',
        },
      ]);
    });

    it('block: keeps the call from delivery, annotated, for the archive', () => {
      const v = checkEvent(compiled(planFor('block')), bad, type);
      expect(v.kind).toBe('blocked');
      expect(v.kind === 'blocked' && v.reason).toBe('violation');
      expect(annotation(v)).toEqual([
        expect.objectContaining({ path: `/${field}/total`, action: 'blocked' }),
      ]);
    });

    it('checks a call that has no properties or traits as an empty object', () => {
      const { [field]: _gone, ...bare } = good;
      const v = checkEvent(compiled(planFor('allow')), bare, type);
      expect(annotation(v)).toEqual([expect.objectContaining({ keyword: 'required' })]);
    });
  });

  it('annotates an unplanned track event under unplannedEvents allow', () => {
    const event = { ...eventOf('track', {}), event: 'Order Refunded' };
    const v = checkEvent(compiled(planFor('block', 'allow')), event, 'track');
    expect(v.kind).toBe('changed');
    expect(annotation(v)).toEqual([
      {
        type: 'unplanned_event',
        path: '/event',
        message: '"Order Refunded" is not in the tracking plan',
        keyword: 'unplannedEvents',
      },
    ]);
  });

  it('blocks an unplanned track event under unplannedEvents block, whatever violations says', () => {
    const event = { ...eventOf('track', {}), event: 'Order Refunded' };
    const v = checkEvent(compiled(planFor('allow', 'block')), event, 'track');
    expect(v.kind === 'blocked' && v.reason).toBe('unplanned_event');
  });

  it('treats no track event as unplanned when the plan has no events', () => {
    const plan = compiled({ identify: { traits: {} }, unplannedEvents: 'block' });
    expect(checkEvent(plan, eventOf('track', {}), 'track')).toEqual({ kind: 'pass' });
  });

  it('lets a planned event without a schema through with any properties', () => {
    const plan = compiled({ events: { 'Order Completed': {} }, violations: 'block' });
    expect(checkEvent(plan, eventOf('track', { total: 'x' }), 'track')).toEqual({ kind: 'pass' });
  });

  it('never checks alias calls, nor types the plan has no schema for', () => {
    const plan = compiled({ events: {}, unplannedEvents: 'block', violations: 'block' });
    const alias = { type: 'alias', userId: 'u', previousId: 'p', context: {} };
    expect(checkEvent(plan, alias, 'alias')).toEqual({ kind: 'pass' });
    expect(checkEvent(plan, eventOf('page', { total: 'x' }), 'page')).toEqual({ kind: 'pass' });
  });

  it('removes a context.violations the client sent, for a source with a plan', () => {
    const event = { ...eventOf('page', {}), context: { violations: [], ip: '1.2.3.4' } };
    const v = checkEvent(compiled({}), event, 'page');
    expect(v.kind === 'changed' && v.event['context']).toEqual({ ip: '1.2.3.4' });
  });

  it(`lists at most ${VIOLATIONS_MAX_PER_EVENT} violations, and omits every failing property`, () => {
    const properties: Record<string, unknown> = {};
    const fields: Record<string, unknown> = { ok: 1 };
    for (let i = 0; i < 15; i++) {
      properties[`p${i}`] = { type: 'number' };
      fields[`p${i}`] = 'text';
    }
    const plan = compiled({ page: { properties: { properties } }, violations: 'omit' });
    const v = checkEvent(plan, eventOf('page', fields), 'page');
    expect(v.kind === 'changed' && v.event['properties']).toEqual({ ok: 1 });
    expect(annotation(v)).toHaveLength(VIOLATIONS_MAX_PER_EVENT);
    expect(v.kind !== 'pass' && v.violations).toHaveLength(15);
  });

  it('does not mutate the event it was given', () => {
    const event = eventOf('page', { total: 'x', coupon: 'c' });
    const before = JSON.stringify(event);
    checkEvent(compiled(planFor('omit')), event, 'page');
    checkEvent(compiled(planFor('allow')), event, 'page');
    expect(JSON.stringify(event)).toBe(before);
  });
});

describe('JSON pointers of violations', () => {
  const pathsOf = (schema: unknown, fields: Record<string, unknown>): unknown => {
    const v = checkEvent(
      compiled({ page: { properties: schema } }),
      eventOf('page', fields),
      'page',
    );
    return v.kind === 'pass' ? [] : v.violations.map((x) => [x.path, x.keyword]);
  };

  it('points into arrays and nested objects', () => {
    const schema = {
      properties: {
        items: { type: 'array', items: { properties: { price: { type: 'number' } } } },
      },
    };
    expect(pathsOf(schema, { items: [{ price: 1 }, { price: 'x' }] })).toEqual([
      ['/properties/items/1/price', 'type'],
    ]);
  });

  it('escapes ~ and / and keeps spaces and unicode as they are (RFC 6901)', () => {
    const schema = {
      properties: {
        'a/b': { type: 'number' },
        'c~d': { type: 'number' },
        'total price': { type: 'number' },
        'prix été': { type: 'number' },
      },
    };
    const fields = { 'a/b': 'x', 'c~d': 'x', 'total price': 'x', 'prix été': 'x' };
    expect(pathsOf(schema, fields)).toEqual([
      ['/properties/a~1b', 'type'],
      ['/properties/c~0d', 'type'],
      ['/properties/total price', 'type'],
      ['/properties/prix été', 'type'],
    ]);
  });

  it('names an extra property refused by additionalProperties: false', () => {
    const schema = { properties: { a: {} }, additionalProperties: false };
    expect(pathsOf(schema, { a: 1, extra: 2 })).toEqual([
      ['/properties/extra', 'additionalProperties'],
    ]);
  });

  it('reports anyOf as one violation, not each branch', () => {
    const schema = { properties: { id: { anyOf: [{ type: 'string' }, { type: 'integer' }] } } };
    expect(pathsOf(schema, { id: 1.5 })).toEqual([['/properties/id', 'anyOf']]);
  });

  it('points a propertyNames failure at the offending name', () => {
    const schema = { propertyNames: { pattern: '^[a-z_]+$' } };
    expect(pathsOf(schema, { good_name: 1, BadName: 2 })).toEqual([
      ['/properties/BadName', 'propertyNames'],
    ]);
  });

  it('reports a failure through a $ref at the instance, with the leaf keyword', () => {
    const schema = {
      $defs: { money: { type: 'number', minimum: 0 } },
      properties: { total: { $ref: '#/$defs/money' } },
    };
    expect(pathsOf(schema, { total: -1 })).toEqual([['/properties/total', 'minimum']]);
  });

  it('reports a key that is not valid Unicode as unprocessable rather than throwing', () => {
    const schema = { additionalProperties: { type: 'number' } };
    expect(pathsOf(schema, { '\ud800': 'x' })).toEqual([['/properties', 'unprocessable']]);
  });
});

function queued(event: Record<string, unknown>, type: EventType): QueuedEvent {
  const line = JSON.stringify(event);
  return { line, bytes: line.length, type, messageId: String(event['messageId']), event };
}

describe('enforcePlan', () => {
  it('returns the very events it was given when the plan changes none', () => {
    const events = [queued(eventOf('page', { total: 1 }), 'page')];
    const out = enforcePlan(compiled(planFor('block')), events);
    expect(out.deliver).toBe(events);
    expect(out).toMatchObject({ blocked: [], violated: 0 });
  });

  it('delivers, re-serialises and blocks event by event, in order, and counts them', () => {
    const plan = compiled(planFor('block', 'block'));
    const good = queued({ ...eventOf('page', { total: 1 }), messageId: 'good' }, 'page');
    const bad = queued({ ...eventOf('page', { total: 'x' }), messageId: 'bad' }, 'page');
    const unplanned = queued({ ...eventOf('track', {}), event: 'Other', messageId: 'u' }, 'track');
    const stale = queued(
      { ...eventOf('identify', { total: 2 }), context: { violations: [] }, messageId: 's' },
      'identify',
    );
    const out = enforcePlan(plan, [good, bad, unplanned, stale]);
    expect(out.deliver.map((e) => e.messageId)).toEqual(['good', 's']);
    expect(out.deliver[0]).toBe(good);
    expect(JSON.parse(out.deliver[1]?.line ?? '')).toEqual({ ...stale.event, context: {} });
    expect(out.deliver[1]?.bytes).toBe(out.deliver[1]?.line.length);
    expect(out.blocked.map((b) => [b.messageId, b.reason])).toEqual([
      ['bad', 'violation'],
      ['u', 'unplanned_event'],
    ]);
    const archived = JSON.parse(out.blocked[0]?.line ?? '') as JsonObject;
    expect((archived['context'] as JsonObject)['violations']).toEqual([
      expect.objectContaining({ path: '/properties/total', action: 'blocked' }),
    ]);
    expect(out.violated).toBe(2);
    expect(out.blockedBy).toEqual({ violation: 1, unplanned_event: 1 });
  });
});

describe('recheckEvent', () => {
  const archived = {
    ...eventOf('page', { total: 'x' }),
    context: { violations: [{ type: 'violation', action: 'blocked' }] },
  };

  it('passes an event the plan now accepts, without its old annotation', () => {
    const v = recheckEvent(compiled({ violations: 'block' }), archived);
    expect(v.kind === 'changed' && v.event['context']).toEqual({});
  });

  it('passes it as well when the source has no plan any more', () => {
    const v = recheckEvent(undefined, archived);
    expect(v.kind === 'changed' && v.event['context']).toEqual({});
  });

  it('blocks it again when it still breaks the plan, annotated afresh', () => {
    const v = recheckEvent(compiled(planFor('block')), archived);
    expect(v.kind).toBe('blocked');
    expect(annotation(v)).toEqual([expect.objectContaining({ path: '/properties/total' })]);
  });
});
