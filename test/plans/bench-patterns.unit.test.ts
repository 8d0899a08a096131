// The bench's "worst accepted expression" cases (bench/cpu/patterns.ts) must be accepted: the
// figure stated in docs/tracking-plans.md is the cost of something a plan may hold.
import { describe, expect, it } from 'vitest';
import { PATTERN_CASES, PATTERN_STRING_CHARS } from '../../bench/cpu/patterns';
import { checkPlanPatterns } from '../../src/plans/patterns';
import { parsePlan } from '../../src/plans/plan';
import { recheckRegex } from '../../src/plans/redos';

describe('the bench expressions', { timeout: 120_000 }, () => {
  it.each(PATTERN_CASES.map((p) => [p.id, p] as const))(
    '%s is accepted by recheck',
    async (_id, p) => {
      const plan = parsePlan({ events: { P: { properties: { properties: { s: p.schema } } } } });
      expect(plan.ok).toBe(true);
      if (!plan.ok) return;
      expect((await checkPlanPatterns(plan.value.document, recheckRegex)).ok).toBe(true);
    },
  );

  it.each(PATTERN_CASES.map((p) => [p.id, p] as const))(
    '%s: its attack string fills a 32 KB event and fails the schema',
    (_id, p) => {
      const s = p.attack(PATTERN_STRING_CHARS);
      expect(s.length).toBeGreaterThan(PATTERN_STRING_CHARS - 8);
      expect(s.length).toBeLessThanOrEqual(PATTERN_STRING_CHARS);
      const plan = parsePlan({ page: { properties: { properties: { s: p.schema } } } });
      if (!plan.ok) throw new Error(plan.error.message);
      expect(plan.value.compiled.types.page?.validate({ s }).valid).toBe(false);
    },
  );
});
