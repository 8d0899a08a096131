import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../src/plans/plan';
import { compileSchema } from '../../src/plans/schema';
import { ISSUE_EXAMPLE } from './fixtures';

describe('parsePlan', () => {
  it('accepts the plan of issue #14 and keeps it as given', () => {
    const r = parsePlan(ISSUE_EXAMPLE);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.document).toEqual(ISSUE_EXAMPLE);
    expect([...(r.value.compiled.events?.keys() ?? [])]).toEqual(['Order Completed']);
    expect(Object.keys(r.value.compiled.types).sort()).toEqual(['group', 'identify', 'page']);
  });

  it('fills in allow for both modes, and leaves track calls ungoverned without events', () => {
    const r = parsePlan({});
    expect(r.ok && r.value.document).toEqual({ unplannedEvents: 'allow', violations: 'allow' });
    expect(r.ok && r.value.compiled.events).toBeUndefined();
  });

  it('accepts a planned event with no schema, and draft-07 tuple items', () => {
    const r = parsePlan({
      events: {
        'Signed Up': {},
        Rated: {
          properties: {
            $schema: 'http://json-schema.org/draft-07/schema#',
            properties: { pair: { items: [{ type: 'string' }, { type: 'number' }] } },
          },
        },
      },
    });
    expect(r.ok).toBe(true);
  });

  it('resolves a $ref into $defs', () => {
    const r = parsePlan({
      page: {
        properties: {
          $defs: { url: { type: 'string', format: 'uri' } },
          properties: { url: { $ref: '#/$defs/url' } },
        },
      },
    });
    expect(r.ok).toBe(true);
  });

  it.each([
    ['a non-object plan', [], '', 'must be a JSON object'],
    ['an unknown top-level key', { violation: 'block' }, '/violation', 'unknown key'],
    ['an unknown mode', { violations: 'drop' }, '/violations', '"allow", "omit", "block"'],
    ['an unknown unplanned mode', { unplannedEvents: 'omit' }, '/unplannedEvents', '"block"'],
    ['events that are not an object', { events: ['Order Completed'] }, '/events', 'map event'],
    ['an empty event name', { events: { '': {} } }, '/events/', 'must not be empty'],
    [
      'an event entry with another key than properties',
      { events: { 'Order Completed': { traits: {} } } },
      '/events/Order Completed/traits',
      'the only key here is "properties"',
    ],
    [
      'identify with properties instead of traits',
      { identify: { properties: {} } },
      '/identify/properties',
      '"traits"',
    ],
    [
      'a misspelt type',
      { events: { A: { properties: { properties: { total: { type: 'numbr' } } } } } },
      '/events/A/properties/properties/total/type',
      'type must be one of',
    ],
    [
      'required that is not a list',
      { page: { properties: { required: 'url' } } },
      '/page/properties/required',
      'array of property names',
    ],
    [
      'a pattern that does not compile',
      { identify: { traits: { properties: { email: { pattern: '([a-z' } } } } },
      '/identify/traits/properties/email/pattern',
      'valid regular expression',
    ],
    [
      'a negative maxLength',
      { group: { traits: { properties: { name: { maxLength: -1 } } } } },
      '/group/traits/properties/name/maxLength',
      'non-negative integer',
    ],
    [
      'an empty anyOf',
      { screen: { properties: { anyOf: [] } } },
      '/screen/properties/anyOf',
      'non-empty array',
    ],
    [
      'a schema that is a string',
      { events: { A: { properties: 'object' } } },
      '/events/A/properties',
      'object or a boolean',
    ],
    [
      'a $ref that resolves nowhere',
      { events: { A: { properties: { $ref: '#/$defs/missing' } } } },
      '/events/A/properties',
      'does not resolve',
    ],
    [
      'a remote $ref',
      { events: { A: { properties: { $ref: 'https://example.com/order.json' } } } },
      '/events/A/properties',
      'does not resolve',
    ],
    [
      'an unsupported $schema',
      { events: { A: { properties: { $schema: 'http://json-schema.org/draft-04/schema#' } } } },
      '/events/A/properties/$schema',
      'draft-07',
    ],
    [
      'tuple items under 2020-12',
      { events: { A: { properties: { properties: { p: { items: [{}] } } } } } },
      '/events/A/properties/properties/p/items',
      'prefixItems',
    ],
    [
      'a property name holding a slash, escaped in the pointer',
      { events: { A: { properties: { properties: { 'a/b~c': { type: 'x' } } } } } },
      '/events/A/properties/properties/a~1b~0c/type',
      'type must be one of',
    ],
  ])('refuses %s, naming where', (_what, plan, field, message) => {
    const r = parsePlan(plan);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.reason).toBe('invalid_plan');
    expect(r.error.field).toBe(field);
    expect(r.error.message).toContain(message);
    expect(r.error.message.startsWith(`${field}: `)).toBe(true);
  });
});

describe('compileSchema', () => {
  it('leaves the schema it was given untouched', () => {
    const schema = { properties: { a: { $ref: '#/$defs/a' } }, $defs: { a: { type: 'string' } } };
    const before = JSON.stringify(schema);
    expect(compileSchema(schema).ok).toBe(true);
    expect(JSON.stringify(schema)).toBe(before);
    expect(Object.getOwnPropertyNames(schema.properties.a)).toEqual(['$ref']);
  });

  it('refuses schemas nested past the limit', () => {
    let schema: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 100; i++) schema = { properties: { x: schema } };
    const r = compileSchema(schema);
    expect(!r.ok && r.error.message).toContain('nest at most');
  });
});

describe('schemas that multiply their checks', () => {
  /** `a0` a string check, each `a<n>` all of `a<n-1>` twice: one value checked 2^depth times. */
  function doubling(depth: number): Record<string, unknown> {
    const defs: Record<string, unknown> = { a0: { type: 'string', minLength: 1 } };
    for (let i = 1; i <= depth; i++) {
      defs[`a${i}`] = { allOf: [{ $ref: `#/$defs/a${i - 1}` }, { $ref: `#/$defs/a${i - 1}` }] };
    }
    return { $defs: defs, properties: { s: { $ref: `#/$defs/a${depth}` } } };
  }

  it('refuses $ref doubling that checks a value 2^30 times, at once and naming why', () => {
    const r = parsePlan({ page: { properties: doubling(30) } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.field).toBe('/page/properties');
    expect(r.error.message).toContain('more than 256 schemas');
  });

  it('accepts a few levels of it, a reused definition and a recursive tree', () => {
    // 6 levels: 254 schemas for the value of `s` (each $ref holder counts, as it is checked too).
    expect(parsePlan({ page: { properties: doubling(6) } }).ok).toBe(true);
    expect(parsePlan({ page: { properties: doubling(7) } }).ok).toBe(false);
    const tree = {
      $defs: { node: { properties: { children: { items: { $ref: '#/$defs/node' } } } } },
      properties: { root: { $ref: '#/$defs/node' }, other: { $ref: '#/$defs/node' } },
    };
    expect(parsePlan({ identify: { traits: tree } }).ok).toBe(true);
  });

  it('refuses a $ref cycle on the same value', () => {
    const r = parsePlan({ page: { properties: { anyOf: [{ type: 'string' }, { $ref: '#' }] } } });
    expect(r.ok).toBe(false);
  });
});
