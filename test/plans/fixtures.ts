// Plans and events shared by the tracking-plan tests.

/** The plan format as issue #14 gives it. */
export const ISSUE_EXAMPLE = {
  events: {
    'Order Completed': {
      properties: {
        type: 'object',
        required: ['total'],
        properties: { total: { type: 'number' } },
      },
    },
  },
  identify: { traits: { type: 'object' } },
  group: { traits: { type: 'object' } },
  page: { properties: { type: 'object' } },
  unplannedEvents: 'allow',
  violations: 'allow',
};

/** One schema per call type: `total` a number and `coupon` a string when present. */
export const ORDER_SCHEMA = {
  type: 'object',
  required: ['total'],
  properties: { total: { type: 'number' }, coupon: { type: 'string' } },
};

export function planFor(violations: string, unplannedEvents = 'allow'): Record<string, unknown> {
  return {
    events: { 'Order Completed': { properties: ORDER_SCHEMA } },
    identify: { traits: ORDER_SCHEMA },
    group: { traits: ORDER_SCHEMA },
    page: { properties: ORDER_SCHEMA },
    screen: { properties: ORDER_SCHEMA },
    unplannedEvents,
    violations,
  };
}

/** An enriched event of `type` whose checked field (properties or traits) is `fields`. */
export function eventOf(
  type: 'track' | 'identify' | 'group' | 'page' | 'screen',
  fields: Record<string, unknown>,
): Record<string, unknown> {
  const field = type === 'identify' || type === 'group' ? 'traits' : 'properties';
  return {
    type,
    ...(type === 'track' ? { event: 'Order Completed' } : {}),
    ...(type === 'group' ? { groupId: 'g1' } : {}),
    userId: 'u1',
    messageId: `m-${type}`,
    source: 'web',
    context: { library: { name: 'test' } },
    [field]: fields,
  };
}
