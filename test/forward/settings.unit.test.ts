import { describe, expect, it } from 'vitest';
import { FORWARD_CALL_TIMEOUT_MS } from '../../src/forward/limits';
import {
  forwardConfig,
  forwardedSources,
  parseForwardEndpoint,
  parseForwardWriteKeys,
} from '../../src/forward/settings';

describe('parseForwardWriteKeys', () => {
  it.each<[string, Record<string, string>, number]>([
    ['web=dest1', { web: 'dest1' }, 0],
    [' web = dest1 , ios=dest2 ,, ', { web: 'dest1', ios: 'dest2' }, 0],
    // A write key may hold `=` (base64 padding): the item splits at its first `=`.
    ['web=abc==', { web: 'abc==' }, 0],
    ['dest1', {}, 1],
    ['=dest1', {}, 1],
    ['web=', {}, 1],
    ['bad name=dest1', {}, 1],
    ['web=first,web=second', { web: 'first' }, 1],
  ])('reads %j', (spec, keys, invalid) => {
    const parsed = parseForwardWriteKeys(spec);
    expect(Object.fromEntries(parsed.keys)).toEqual(keys);
    expect(parsed.invalid).toBe(invalid);
  });
});

describe('parseForwardEndpoint', () => {
  it.each([
    ['https://api.segment.io/v1/batch', true],
    ['https://events.eu1.segmentapis.com/v1/batch', true],
    ['http://127.0.0.1:8788/v1/batch', true],
    ['ftp://example.com/v1/batch', false],
    ['api.segment.io/v1/batch', false],
    ['https://key:@api.segment.io/v1/batch', false],
  ])('accepts %s: %s', (url, ok) => {
    expect(parseForwardEndpoint(url).ok).toBe(ok);
  });
});

describe('forwardConfig', () => {
  it('is off while FORWARD_ENDPOINT is unset or empty, whatever the keys say', () => {
    expect(forwardConfig({ FORWARD_WRITE_KEYS: 'web=k' })).toEqual({ kind: 'off' });
    expect(forwardConfig({ FORWARD_ENDPOINT: ' ', FORWARD_WRITE_KEYS: 'web=k' })).toEqual({
      kind: 'off',
    });
    expect(forwardedSources(forwardConfig({}))).toEqual(new Set());
  });

  it('is on with the listed sources, their keys and the timeout', () => {
    const config = forwardConfig({
      FORWARD_ENDPOINT: 'https://api.segment.io/v1/batch',
      FORWARD_WRITE_KEYS: 'web=kw,ios=ki,oops',
      FORWARD_TIMEOUT_SECONDS: '5',
    });
    expect(config).toEqual({
      kind: 'on',
      settings: {
        endpoint: 'https://api.segment.io/v1/batch',
        writeKeys: new Map([
          ['web', 'kw'],
          ['ios', 'ki'],
        ]),
        timeoutMs: 5000,
        invalidEntries: 1,
      },
    });
    expect(forwardedSources(config)).toEqual(new Set(['web', 'ios']));
  });

  it('falls back to the default timeout for a bad FORWARD_TIMEOUT_SECONDS', () => {
    const config = forwardConfig({
      FORWARD_ENDPOINT: 'https://api.segment.io/v1/batch',
      FORWARD_WRITE_KEYS: 'web=k',
      FORWARD_TIMEOUT_SECONDS: '-1',
    });
    expect(config.kind === 'on' && config.settings.timeoutMs).toBe(FORWARD_CALL_TIMEOUT_MS);
  });

  it('is invalid, with the reason, for a bad endpoint or no source', () => {
    expect(forwardConfig({ FORWARD_ENDPOINT: 'nope', FORWARD_WRITE_KEYS: 'web=k' })).toEqual({
      kind: 'invalid',
      reason: 'FORWARD_ENDPOINT is not an absolute URL',
    });
    const none = forwardConfig({ FORWARD_ENDPOINT: 'https://api.segment.io/v1/batch' });
    expect(none.kind).toBe('invalid');
    expect(forwardedSources(none)).toEqual(new Set());
  });
});
