import { describe, expect, it } from 'vitest';
import { ANY, EventEdit, parsePointer, removeKeys, type Segment } from '../../src/privacy/pointer';

function segments(pointer: string): Segment[] {
  const parsed = parsePointer(pointer);
  if (!parsed.ok) throw new Error(parsed.why);
  return parsed.segments;
}

/** The containers and keys a pointer reaches, dropping them. */
function drop(event: Record<string, unknown>, pointer: string): EventEdit {
  const edit = new EventEdit(event);
  edit.apply(segments(pointer), (container, keys) => removeKeys(container, keys));
  return edit;
}

describe('parsePointer', () => {
  it.each([
    ['/properties/email', ['properties', 'email']],
    ['/a~1b/c~0d', ['a/b', 'c~d']],
    ['/a~01', ['a~1']],
    ['/items/*/price', ['items', ANY, 'price']],
    ['/', ['']],
  ])('reads %s', (pointer, expected) => {
    expect(segments(pointer)).toEqual(expected);
  });

  it.each(['', 'properties', '/a~', '/a~x'])('refuses %j', (pointer) => {
    expect(parsePointer(pointer).ok).toBe(false);
  });
});

describe('EventEdit', () => {
  it('copies nothing when a pointer reaches nothing', () => {
    const event = { properties: { total: 1 }, context: { traits: {} } };
    for (const p of ['/properties/email', '/nope/x', '/properties/total/deeper', '/items/0']) {
      const edit = drop(event, p);
      expect(edit.changed).toBe(false);
      expect(edit.root).toBe(event);
    }
  });

  it('changes a copy along the path only, never the event or what it shares', () => {
    const shared = { email: 'ada@example.com', plan: 'pro' };
    const event = { properties: shared, context: { page: { path: '/' } } };
    const edit = drop(event, '/properties/email');
    expect(edit.root).toEqual({ properties: { plan: 'pro' }, context: { page: { path: '/' } } });
    expect(shared).toEqual({ email: 'ada@example.com', plan: 'pro' });
    expect(event.properties).toBe(shared);
    // Untouched branches are shared, not copied.
    expect(edit.root['context']).toBe(event.context);
  });

  it('matches every key with * and every array item', () => {
    const event = {
      traits: { email: 'a@b', name: 'Ada' },
      properties: { items: [{ sku: 'x', price: 1 }, { sku: 'y' }, 'loose'] },
    };
    expect(drop(event, '/traits/*').root['traits']).toEqual({});
    expect(drop(event, '/properties/items/*/price').root['properties']).toEqual({
      items: [{ sku: 'x' }, { sku: 'y' }, 'loose'],
    });
    expect(drop(event, '/properties/items/1').root['properties']).toEqual({
      items: [{ sku: 'x', price: 1 }, 'loose'],
    });
    expect(drop(event, '/properties/items/*').root['properties']).toEqual({ items: [] });
    // Out of range, not an index, or `-` (past the end): nothing.
    for (const p of ['/properties/items/3', '/properties/items/01', '/properties/items/-']) {
      expect(drop(event, p).changed).toBe(false);
    }
    expect(event.properties.items).toHaveLength(3);
  });

  it('copies each container once however many rules change it', () => {
    const event = { properties: { a: 1, b: 2, c: 3 } };
    const edit = new EventEdit(event);
    edit.apply(segments('/properties/a'), (c, k) => removeKeys(c, k));
    const once = edit.root['properties'];
    edit.apply(segments('/properties/b'), (c, k) => removeKeys(c, k));
    expect(edit.root['properties']).toBe(once);
    expect(edit.root).toEqual({ properties: { c: 3 } });
  });
});
