import { describe, expect, it } from 'vitest';
import { decodeBatchResponse, retryAfterSeconds } from '../../src/forward/codec';

const NOW = Date.parse('2026-11-29T10:00:00.000Z');
const none = { retryAfter: null };

describe('retryAfterSeconds', () => {
  it.each<[string | null, number | undefined]>([
    [null, undefined],
    ['7', 7],
    ['0', 1],
    ['86400', 43_200],
    ['Sun, 29 Nov 2026 10:00:30 GMT', 30],
    ['Sun, 29 Nov 2026 09:00:00 GMT', 1],
    ['soon', undefined],
    ['1.5', undefined],
  ])('reads %j as %j seconds', (value, seconds) => {
    expect(retryAfterSeconds(value, NOW)).toBe(seconds);
  });
});

describe('decodeBatchResponse', () => {
  it.each([200, 201, 204])('delivers on %i', (status) => {
    expect(decodeBatchResponse(status, none, '{"success":true}', NOW)).toEqual({ kind: 'ok' });
  });

  it('retries a 429 after its Retry-After', () => {
    expect(decodeBatchResponse(429, { retryAfter: '12' }, '', NOW)).toEqual({
      kind: 'retry',
      code: 'http_429',
      cause: 'throttled',
      delaySeconds: 12,
    });
    expect(decodeBatchResponse(429, none, '', NOW)).toEqual({
      kind: 'retry',
      code: 'http_429',
      cause: 'throttled',
    });
  });

  it.each([500, 502, 503, 504, 408])('retries a %i with backoff', (status) => {
    expect(decodeBatchResponse(status, none, 'oops', NOW)).toEqual({
      kind: 'retry',
      code: `http_${status}`,
      cause: 'unavailable',
    });
  });

  it('honours the Retry-After of a 503', () => {
    expect(decodeBatchResponse(503, { retryAfter: '40' }, '', NOW)).toMatchObject({
      delaySeconds: 40,
    });
  });

  it.each([
    [400, '{"message":"Payload too large"}', 'http_400: {"message":"Payload too large"}'],
    [401, '', 'http_401'],
    [413, 'too\nlarge', 'http_413: too large'],
  ])('refuses a %i for good, with the reason', (status, body, reason) => {
    expect(decodeBatchResponse(status, none, body, NOW)).toEqual({ kind: 'dead', reason });
  });

  it('refuses a redirect for good: no address but FORWARD_ENDPOINT is contacted', () => {
    const outcome = decodeBatchResponse(301, none, '', NOW);
    expect(outcome).toMatchObject({ kind: 'dead' });
    expect(outcome.kind === 'dead' && outcome.reason).toMatch(/^http_301: redirects/);
  });

  it('keeps at most 200 characters of a refusal', () => {
    const outcome = decodeBatchResponse(400, none, 'x'.repeat(5000), NOW);
    expect(outcome.kind === 'dead' && outcome.reason.length).toBe('http_400: '.length + 200);
  });
});
