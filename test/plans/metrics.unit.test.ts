import { describe, expect, it } from 'vitest';
import { MetricsBuffer } from '../../src/metrics/buffer';
import { recordTrackingPlan } from '../../src/metrics/record';
import { enforcePlan } from '../../src/plans/enforce';
import { parsePlan } from '../../src/plans/plan';
import type { QueuedEvent } from '../../src/segment/ingest';
import { planFor } from './fixtures';

describe('recordTrackingPlan', () => {
  it('counts violating events by source and blocked ones by source and reason', () => {
    const m = new MetricsBuffer();
    recordTrackingPlan(m, 'web', 3, { violation: 1, unplanned_event: 2 });
    recordTrackingPlan(m, 'web', 0, { violation: 0, unplanned_event: 0 });
    expect(m.drain().counters).toEqual({
      'ndc_segment_tracking_plan_violations_total{source="web"}': 3,
      'ndc_segment_events_blocked_total{reason="violation",source="web"}': 1,
      'ndc_segment_events_blocked_total{reason="unplanned_event",source="web"}': 2,
    });
  });

  it('takes no label from event names or properties, however many there are', () => {
    const parsed = parsePlan(planFor('block', 'block'));
    if (!parsed.ok) throw new Error(parsed.error.message);
    const events: QueuedEvent[] = Array.from({ length: 500 }, (_v, i) => {
      const event = {
        type: i % 2 === 0 ? 'track' : 'page',
        event: `Event ${i} ${'x'.repeat(i % 7)}`,
        messageId: `m${i}`,
        context: {},
        properties: { [`prop_${i}`]: i, total: i % 3 === 0 ? 'bad' : i },
      };
      const line = JSON.stringify(event);
      return {
        line,
        bytes: line.length,
        type: i % 2 === 0 ? 'track' : 'page',
        messageId: `m${i}`,
        event,
      };
    });
    const m = new MetricsBuffer();
    const out = enforcePlan(parsed.value.compiled, events);
    recordTrackingPlan(m, 'web', out.violated, out.blockedBy);
    const keys = Object.keys(m.drain().counters);
    expect(keys.sort()).toEqual([
      'ndc_segment_events_blocked_total{reason="unplanned_event",source="web"}',
      'ndc_segment_events_blocked_total{reason="violation",source="web"}',
      'ndc_segment_tracking_plan_violations_total{source="web"}',
    ]);
  });
});
