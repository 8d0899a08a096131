import { describe, expect, it } from 'vitest';
import { DROPPED_FIELDS, destinationEvent } from '../../src/forward/event';

describe('destinationEvent', () => {
  it('keeps messageId, timestamps, context and integrations, and drops our own fields', () => {
    const delivered = {
      type: 'track',
      event: 'Signed Up',
      userId: 'u1',
      messageId: 'm-1',
      source: 'web',
      receivedAt: '2026-11-29T10:00:01.000Z',
      sentAt: '2026-11-29T10:00:05.000Z',
      timestamp: '2026-11-29T09:59:58.000Z',
      originalTimestamp: '2026-11-29T10:00:02.000Z',
      context: { ip: '203.0.113.9', userAgent: 'UA', location: { country: 'FR' } },
      integrations: { All: false, Mixpanel: true },
      properties: { plan: 'pro' },
    };
    const out = JSON.parse(destinationEvent(JSON.stringify(delivered)) ?? 'null') as Record<
      string,
      unknown
    >;
    for (const field of DROPPED_FIELDS) expect(out).not.toHaveProperty(field);
    expect(out).toEqual({
      type: 'track',
      event: 'Signed Up',
      userId: 'u1',
      messageId: 'm-1',
      timestamp: '2026-11-29T09:59:58.000Z',
      originalTimestamp: '2026-11-29T10:00:02.000Z',
      context: { ip: '203.0.113.9', userAgent: 'UA', location: { country: 'FR' } },
      integrations: { All: false, Mixpanel: true },
      properties: { plan: 'pro' },
    });
  });

  it.each(['not json', '[1,2]', '"text"', 'null'])('returns undefined for %j', (line) => {
    expect(destinationEvent(line)).toBeUndefined();
  });
});
