import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../src/segment/validate';
import { EVENT_TYPES, type EventType } from '../../src/segment/types';
import { SEED_TRACK, VALID_CALLS } from '../fixtures/calls';

describe('validateEvent', () => {
  it('accepts the seed track.json on the track route', () => {
    const result = validateEvent(SEED_TRACK, 'track');
    expect(result).toEqual({
      ok: true,
      value: {
        type: 'track',
        body: SEED_TRACK,
        timestampMs: Date.UTC(2017, 7, 9, 13, 24, 25, 615),
      },
    });
  });

  it('hands on timestamp and sentAt as parsed, so enrichment does not parse them again', () => {
    const result = validateEvent(
      { ...SEED_TRACK, timestamp: '2026-11-30T10:00:00+01:00', sentAt: '2026-11-30T09:00:01Z' },
      'track',
    );
    expect(result.ok && result.value.timestampMs).toBe(Date.UTC(2026, 10, 30, 9, 0, 0));
    expect(result.ok && result.value.sentAtMs).toBe(Date.UTC(2026, 10, 30, 9, 0, 1));
  });

  it.each(EVENT_TYPES)('accepts a valid %s call from its route and as a batch item', (type) => {
    expect(validateEvent(VALID_CALLS[type], type).ok).toBe(true);
    expect(validateEvent(VALID_CALLS[type], undefined).ok).toBe(true);
  });

  it('takes the type from the route when the body has none', () => {
    const { type: _drop, ...noType } = VALID_CALLS.page;
    const result = validateEvent(noType, 'page');
    expect(result.ok && result.value.type).toBe('page');
  });

  const track = VALID_CALLS.track;
  const cases: Array<[string, unknown, EventType | undefined, string, string | undefined]> = [
    ['a non-object body', [1, 2], 'track', 'invalid_body', undefined],
    [
      'a body type that disagrees with the route',
      { ...track, type: 'page' },
      'track',
      'type_mismatch',
      '.type',
    ],
    ['an unknown type', { ...track, type: 'purchase' }, undefined, 'unknown_type', '.type'],
    [
      'a batch item without type',
      { ...track, type: undefined },
      undefined,
      'missing_field',
      '.type',
    ],
    [
      'a call without userId or anonymousId',
      { type: 'track', event: 'x' },
      'track',
      'missing_field',
      '.userId',
    ],
    ['an empty userId', { type: 'identify', userId: '' }, 'identify', 'invalid_field', '.userId'],
    [
      'an object anonymousId',
      { type: 'identify', anonymousId: {} },
      'identify',
      'invalid_field',
      '.anonymousId',
    ],
    [
      'a track call without event',
      { ...track, event: undefined },
      'track',
      'missing_field',
      '.event',
    ],
    [
      'a track call with a numeric event',
      { ...track, event: 42 },
      'track',
      'invalid_field',
      '.event',
    ],
    [
      'a track call with an empty event',
      { ...track, event: '' },
      'track',
      'invalid_field',
      '.event',
    ],
    [
      'a group call without groupId',
      { ...VALID_CALLS.group, groupId: undefined },
      'group',
      'missing_field',
      '.groupId',
    ],
    [
      'an alias without previousId',
      { type: 'alias', userId: 'u' },
      'alias',
      'missing_field',
      '.previousId',
    ],
    [
      'an alias without userId',
      { type: 'alias', previousId: 'p', anonymousId: 'a' },
      'alias',
      'missing_field',
      '.userId',
    ],
    ['array properties', { ...track, properties: [] }, 'track', 'invalid_field', '.properties'],
    [
      'string traits',
      { ...VALID_CALLS.identify, traits: 'x' },
      'identify',
      'invalid_field',
      '.traits',
    ],
    ['null context', { ...track, context: null }, 'track', 'invalid_field', '.context'],
    [
      'numeric integrations',
      { ...track, integrations: 1 },
      'track',
      'invalid_field',
      '.integrations',
    ],
    [
      'a non-ISO timestamp',
      { ...track, timestamp: 'yesterday' },
      'track',
      'invalid_timestamp',
      '.timestamp',
    ],
    [
      'a numeric timestamp',
      { ...track, timestamp: 1700000000 },
      'track',
      'invalid_timestamp',
      '.timestamp',
    ],
    [
      'an impossible sentAt',
      { ...track, sentAt: '2026-02-30T00:00:00Z' },
      'track',
      'invalid_timestamp',
      '.sentAt',
    ],
    ['a numeric messageId', { ...track, messageId: 7 }, 'track', 'invalid_field', '.messageId'],
    [
      'a 257-character messageId',
      { ...track, messageId: 'm'.repeat(257) },
      'track',
      'invalid_field',
      '.messageId',
    ],
    ['a numeric page name', { ...VALID_CALLS.page, name: 3 }, 'page', 'invalid_field', '.name'],
  ];

  it.each(cases)('rejects %s', (_name, body, route, reason, field) => {
    const result = validateEvent(body, route);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.reason).toBe(reason);
    expect(result.error.field).toBe(field);
    expect(result.error.message.length).toBeGreaterThan(0);
  });

  it('accepts numeric ids and a 256-character messageId', () => {
    expect(validateEvent({ ...track, userId: 42, messageId: 'm'.repeat(256) }, 'track').ok).toBe(
      true,
    );
  });
});
