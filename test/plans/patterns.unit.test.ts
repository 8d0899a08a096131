// The save-time ReDoS check of tracking plans: where a plan's expressions are found (JSON
// pointers), and recheck's verdicts on the ReDoS literature's evil expressions, run for real
// inside workerd.
import { describe, expect, it } from 'vitest';
import { checkPlanPatterns, planPatterns } from '../../src/plans/patterns';
import { parsePlan, type PlanDocument } from '../../src/plans/plan';
import { recheckRegex } from '../../src/plans/redos';

function plan(raw: unknown): PlanDocument {
  const parsed = parsePlan(raw);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value.document;
}

const withPattern = (pattern: string): PlanDocument =>
  plan({
    events: {
      'Order Completed': {
        properties: { properties: { coupon: { type: 'string', pattern } } },
      },
    },
  });

const COUPON_POINTER = '/events/Order Completed/properties/properties/coupon/pattern';

describe('planPatterns', () => {
  it('finds pattern and patternProperties names in every section, with their pointers', () => {
    const found = planPatterns(
      plan({
        events: {
          'a/b': {
            properties: {
              properties: { code: { pattern: '^[A-Z]{3}$' } },
              patternProperties: { '^x-': { type: 'string' } },
              allOf: [{ items: { pattern: '^\\d+$' } }],
            },
          },
        },
        identify: { traits: { $defs: { id: { pattern: '^u-' } } } },
      }),
    );
    expect(found.regexes).toEqual([
      { at: '/events/a~1b/properties/allOf/0/items/pattern', source: '^\\d+$' },
      { at: '/events/a~1b/properties/properties/code/pattern', source: '^[A-Z]{3}$' },
      { at: '/events/a~1b/properties/patternProperties/^x-', source: '^x-' },
      { at: '/identify/traits/$defs/id/pattern', source: '^u-' },
    ]);
  });

  it('finds a url format, and takes pattern inside enum or const for data', () => {
    const found = planPatterns(
      plan({
        page: {
          properties: {
            properties: { link: { format: 'url' }, kind: { enum: [{ pattern: '(a+)+' }] } },
          },
        },
      }),
    );
    expect(found.formats.map((f) => f.at)).toEqual(['/page/properties/properties/link/format']);
    expect(found.regexes).toEqual([]);
  });
});

// Loading recheck (2.9 MB) and analysing (.*a){12} take seconds on a busy machine: generous
// limits, no timing asserted.
describe('checkPlanPatterns with recheck', { timeout: 120_000 }, () => {
  it.each(['^(a+)+$', '(a|aa)+', '^(\\w+\\s?)*$', '(.*a){12}'])(
    'refuses the evil expression %s, naming its pointer',
    async (pattern) => {
      const r = await checkPlanPatterns(withPattern(pattern), recheckRegex);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error.reason).toBe('invalid_plan');
      expect(r.error.field).toBe(COUPON_POINTER);
      expect(r.error.message).toContain(JSON.stringify(pattern));
    },
  );

  it('refuses a quadratic expression (a trailing-space trim) and a patternProperties name', async () => {
    const trim = await checkPlanPatterns(withPattern('\\s+$'), recheckRegex);
    expect(!trim.ok && trim.error.message).toMatch(/polynomial \(degree 2\)/);
    const names = await checkPlanPatterns(
      plan({ group: { traits: { patternProperties: { '^(a|a)*$': {} } } } }),
      recheckRegex,
    );
    expect(!names.ok && names.error.field).toBe('/group/traits/patternProperties/^(a|a)*$');
  });

  it('refuses what the automaton cannot prove linear (lookbehind)', async () => {
    const r = await checkPlanPatterns(withPattern('(?<=a)b+'), recheckRegex);
    expect(!r.ok && r.error.message).toMatch(/cannot be proven linear/);
  });

  it('refuses format url, whose own expression is exponential', async () => {
    const r = await checkPlanPatterns(
      plan({ screen: { properties: { properties: { l: { format: 'url' } } } } }),
      recheckRegex,
    );
    expect(!r.ok && r.error.field).toBe('/screen/properties/properties/l/format');
  });

  it.each(['^[A-Z]{3}-\\d{4}$', '^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$', '^(\\w+\\.)*\\w+$'])(
    'accepts the linear expression %s',
    async (pattern) => {
      const r = await checkPlanPatterns(withPattern(pattern), recheckRegex);
      expect(r).toEqual({ ok: true, value: { regexes: 1 } });
    },
  );

  it('checks an expression used twice once', async () => {
    const calls: string[] = [];
    const r = await checkPlanPatterns(
      plan({
        identify: { traits: { properties: { a: { pattern: '^x$' }, b: { pattern: '^x$' } } } },
      }),
      async (source) => {
        calls.push(source);
        return recheckRegex(source);
      },
    );
    expect(r.ok).toBe(true);
    expect(calls).toEqual(['^x$']);
  });
});
