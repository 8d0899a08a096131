import { describe, expect, it } from 'vitest';
import {
  applyRules,
  compileRules,
  type PendingHash,
  type Rule,
  type RuleAction,
} from '../../src/privacy/fields';
import { parsePointer } from '../../src/privacy/pointer';
import type { JsonObject } from '../../src/segment/types';

function rule(pointer: string, action: RuleAction): Rule {
  const parsed = parsePointer(pointer);
  if (!parsed.ok) throw new Error(parsed.why);
  return { segments: parsed.segments, action };
}

/** The event as the rules leave it, with each pending hash written as `#<text>`. */
function run(event: JsonObject, ...rules: Rule[]) {
  const pending: PendingHash[] = [];
  const counts = { drop: 0, truncate: 0 };
  const out = applyRules(compileRules(rules), event, pending, counts);
  for (const p of pending) (p.container as Record<string | number, unknown>)[p.key] = `#${p.text}`;
  return { out, counts, pending };
}

describe('applyRules', () => {
  it('copies nothing when no rule reaches anything', () => {
    const event = { properties: { total: 1 }, context: { traits: {} }, items: [1] };
    const { out, pending } = run(
      event,
      rule('/properties/email', 'drop'),
      rule('/nope/x', 'hash'),
      rule('/properties/total/deeper', 'drop'),
      rule('/items/3', 'drop'),
      rule('/items/01', 'drop'),
      rule('/items/-', 'drop'),
    );
    expect(out).toBe(event);
    expect(pending).toEqual([]);
  });

  it('changes copies along the path only, never the event or what it shares', () => {
    const shared = { email: 'ada@example.com', plan: 'pro' };
    const event = { properties: shared, context: { page: { path: '/' } } };
    const { out } = run(event, rule('/properties/email', 'drop'));
    expect(out).toEqual({ properties: { plan: 'pro' }, context: { page: { path: '/' } } });
    expect(shared).toEqual({ email: 'ada@example.com', plan: 'pro' });
    expect(event.properties).toBe(shared);
    // Untouched branches are shared, not copied; key order is kept.
    expect(out['context']).toBe(event.context);
    expect(Object.keys(out)).toEqual(['properties', 'context']);
  });

  it('matches every key with * and every array item, named keys beside * getting both', () => {
    const event = {
      traits: { email: 'a@b', name: 'Ada' },
      properties: { items: [{ sku: 'x', price: 1 }, { sku: 'y' }, 'loose'] },
    };
    expect(run(event, rule('/traits/*', 'drop')).out['traits']).toEqual({});
    expect(run(event, rule('/properties/items/*/price', 'drop')).out['properties']).toEqual({
      items: [{ sku: 'x' }, { sku: 'y' }, 'loose'],
    });
    expect(run(event, rule('/properties/items/1', 'drop')).out['properties']).toEqual({
      items: [{ sku: 'x', price: 1 }, 'loose'],
    });
    expect(run(event, rule('/properties/items/*', 'drop')).out['properties']).toEqual({
      items: [],
    });
    const both = run(event, rule('/traits/*', 'hash'), rule('/traits/email', 'drop'));
    expect(both.out['traits']).toEqual({ name: '#Ada' });
    expect(event.properties.items).toHaveLength(3);
  });

  it('hashes an array item where it stays, whatever is dropped before it', () => {
    const event = { tags: ['Ada', 'keep', '42'] };
    const { out, counts } = run(event, rule('/tags/2', 'hash'), rule('/tags/0', 'drop'));
    expect(out['tags']).toEqual(['keep', '#42']);
    expect(counts.drop).toBe(1);
  });

  it('lets the strongest rule act on a value: drop, then hash, then truncate', () => {
    const event = { context: { ip: '203.0.113.77', traits: { email: 'x' } } };
    expect(run(event, rule('/context/ip', 'truncate'), rule('/context/ip', 'drop')).out).toEqual({
      context: { traits: { email: 'x' } },
    });
    expect(run(event, rule('/context/ip', 'truncate'), rule('/context/ip', 'hash')).out).toEqual({
      context: { ip: '#203.0.113.77', traits: { email: 'x' } },
    });
    // A value acted on is not walked into: the whole traits object hashed, as sent.
    const traits = run(
      event,
      rule('/context/traits', 'hash'),
      rule('/context/traits/email', 'drop'),
    );
    expect(traits.out['context']).toEqual({ ip: '203.0.113.77', traits: '#{"email":"x"}' });
  });

  it('truncates an IP address and drops one that is not an address', () => {
    expect(run({ context: { ip: '203.0.113.77' } }, rule('/context/ip', 'truncate')).out).toEqual({
      context: { ip: '203.0.113.0' },
    });
    const unchanged = { context: { ip: '203.0.113.0' } };
    expect(run(unchanged, rule('/context/ip', 'truncate')).out).toBe(unchanged);
    expect(run({ context: { ip: 'nope' } }, rule('/context/ip', 'truncate')).out).toEqual({
      context: {},
    });
  });

  it('keeps only the country of a location, and drops one without', () => {
    const location = { country: 'AU', city: 'Melbourne', latitude: -37.8 };
    expect(run({ context: { location } }, rule('/context/location', 'country')).out).toEqual({
      context: { location: { country: 'AU' } },
    });
    const already = { context: { location: { country: 'AU' } } };
    expect(run(already, rule('/context/location', 'country')).out).toBe(already);
    expect(
      run({ context: { location: { city: 'Oslo' } } }, rule('/context/location', 'country')).out,
    ).toEqual({ context: {} });
  });

  it('hashes a value as its text, or its JSON when not a string', () => {
    const { pending } = run(
      { a: 'x', b: 42, c: { d: 1 }, e: null },
      rule('/a', 'hash'),
      rule('/b', 'hash'),
      rule('/c', 'hash'),
      rule('/e', 'hash'),
    );
    expect(pending.map((p) => p.text)).toEqual(['x', '42', '{"d":1}', 'null']);
  });
});
