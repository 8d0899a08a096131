import { describe, expect, it } from 'vitest';
import { POLICY_MAX_FIELD_RULES } from '../../src/privacy/limits';
import { parsePolicy } from '../../src/privacy/policy';

const ISSUE_EXAMPLE = {
  consent: {
    categories: { firehose: ['analytics'], forward: ['advertising'] },
    missing: 'allow',
  },
  gpc: 'ignore',
  fields: [
    { path: '/properties/email', action: 'hash' },
    { path: '/context/traits/ssn', action: 'drop' },
  ],
  ip: 'full',
  location: 'full',
};

describe('parsePolicy', () => {
  it("accepts the issue's example and compiles each sink's categories", () => {
    const parsed = parsePolicy(ISSUE_EXAMPLE, true);
    if (!parsed.ok) throw new Error(parsed.error.message);
    expect(parsed.value.document).toEqual(ISSUE_EXAMPLE);
    expect(parsed.value.compiled.categories).toEqual({
      firehose: ['analytics'],
      forward: ['advertising'],
    });
    expect(parsed.value.compiled.fields.map((f) => f.segments)).toEqual([
      ['properties', 'email'],
      ['context', 'traits', 'ssn'],
    ]);
    expect(parsed.value.compiled.hashes).toBe(true);
  });

  it('fills every default for an empty policy, which needs no key', () => {
    const parsed = parsePolicy({}, false);
    if (!parsed.ok) throw new Error(parsed.error.message);
    expect(parsed.value.document).toEqual({
      consent: { categories: {}, missing: 'allow' },
      gpc: 'ignore',
      fields: [],
      ip: 'full',
      location: 'full',
    });
    expect(parsed.value.compiled.hashes).toBe(false);
  });

  it('reads `*` as any key and unescapes ~1 and ~0 (RFC 6901)', () => {
    const parsed = parsePolicy(
      { fields: [{ path: '/properties/*/a~1b~0c', action: 'drop' }] },
      false,
    );
    if (!parsed.ok) throw new Error(parsed.error.message);
    expect(parsed.value.compiled.fields[0]?.segments).toEqual(['properties', null, 'a/b~c']);
  });

  it.each([
    ['a non-object', [], ''],
    ['an unknown top-level key', { feilds: [] }, '/feilds'],
    ['consent that is not an object', { consent: true }, '/consent'],
    ['an unknown consent key', { consent: { categorys: {} } }, '/consent/categorys'],
    ['an unknown sink', { consent: { categories: { s3: ['a'] } } }, '/consent/categories/s3'],
    [
      'categories that are not a list',
      { consent: { categories: { firehose: 'a' } } },
      '/consent/categories/firehose',
    ],
    [
      'an empty category',
      { consent: { categories: { forward: ['ok', ''] } } },
      '/consent/categories/forward/1',
    ],
    ['an unknown missing mode', { consent: { missing: 'maybe' } }, '/consent/missing'],
    ['an unknown gpc mode', { gpc: 'honour' }, '/gpc'],
    ['fields that are not a list', { fields: {} }, '/fields'],
    ['a rule that is not an object', { fields: ['/x'] }, '/fields/0'],
    [
      'a rule with an unknown key',
      { fields: [{ path: '/x', action: 'drop', why: 1 }] },
      '/fields/0/why',
    ],
    [
      'a path without a slash',
      { fields: [{ path: 'properties.email', action: 'drop' }] },
      '/fields/0/path',
    ],
    ['the whole event', { fields: [{ path: '', action: 'drop' }] }, '/fields/0/path'],
    ['a bad escape', { fields: [{ path: '/a~2', action: 'drop' }] }, '/fields/0/path'],
    ['the messageId', { fields: [{ path: '/messageId', action: 'hash' }] }, '/fields/0/path'],
    ['every top-level field', { fields: [{ path: '/*', action: 'drop' }] }, '/fields/0/path'],
    ['a rule without action', { fields: [{ path: '/x' }] }, '/fields/0/action'],
    ['an unknown action', { fields: [{ path: '/x', action: 'mask' }] }, '/fields/0/action'],
    ['an unknown ip mode', { ip: 'mask' }, '/ip'],
    ['an unknown location mode', { location: 'city' }, '/location'],
  ])('refuses %s with invalid_policy naming %s', (_what, raw, field) => {
    const parsed = parsePolicy(raw, true);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error.reason).toBe('invalid_policy');
    expect(parsed.error.field).toBe(field);
    expect(parsed.error.message.startsWith(`${field}: `)).toBe(true);
  });

  it('refuses a hash rule while PRIVACY_HASH_KEY is unset, naming the rule', () => {
    const parsed = parsePolicy(ISSUE_EXAMPLE, false);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error.field).toBe('/fields/0/action');
    expect(parsed.error.message).toContain('PRIVACY_HASH_KEY');
  });

  it('refuses gpc anonymize while PRIVACY_HASH_KEY is unset: it hashes ids', () => {
    const parsed = parsePolicy({ gpc: 'anonymize' }, false);
    expect(parsed.ok ? undefined : parsed.error.field).toBe('/gpc');
  });

  it(`refuses more than ${POLICY_MAX_FIELD_RULES} rules`, () => {
    const fields = Array.from({ length: POLICY_MAX_FIELD_RULES + 1 }, (_v, i) => ({
      path: `/properties/p${i}`,
      action: 'drop',
    }));
    const parsed = parsePolicy({ fields }, false);
    expect(parsed.ok ? undefined : parsed.error.field).toBe('/fields');
  });
});
