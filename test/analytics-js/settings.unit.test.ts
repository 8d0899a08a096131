import { describe, expect, it } from 'vitest';
import { settingsFor } from '../../src/analytics-js/settings';
import { deliveryStrategy } from '../../src/analytics-js/delivery';

const STANDARD = { strategy: 'standard' } as const;

describe('settingsFor', () => {
  it('names the given origin as the only destination and turns off everything that loads code', () => {
    expect(settingsFor('wk', { host: 'collect.example.com', protocol: 'https' }, STANDARD)).toEqual(
      {
        integrations: {
          'Segment.io': {
            apiKey: 'wk',
            apiHost: 'collect.example.com/v1',
            protocol: 'https',
            deliveryStrategy: STANDARD,
          },
        },
        plan: {
          track: { __default: { enabled: true } },
          identify: { __default: { enabled: true } },
        },
        metrics: { sampleRate: 0 },
        enabledMiddleware: {},
        middlewareSettings: { routingRules: [] },
        remotePlugins: [],
        legacyVideoPluginsEnabled: false,
      },
    );
  });

  it('leaves out consentSettings, which would make consent wrappers stop analytics.js', () => {
    expect(settingsFor('wk', { host: 'h', protocol: 'http' }, STANDARD)).not.toHaveProperty(
      'consentSettings',
    );
  });

  it('names no host but the given one in any value', () => {
    const values = strings(
      settingsFor(
        'wk',
        { host: '127.0.0.1:8787', protocol: 'http' },
        deliveryStrategy('10', '5000'),
      ),
    );
    const hosts = values.flatMap((v) => v.match(/[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?/gi) ?? []);
    expect(hosts).toEqual(['127.0.0.1:8787']);
  });
});

describe('deliveryStrategy', () => {
  it.each([
    [undefined, undefined, { strategy: 'batching', config: { size: 10, timeout: 5000 } }],
    ['', '', { strategy: 'batching', config: { size: 10, timeout: 5000 } }],
    ['20', '1500', { strategy: 'batching', config: { size: 20, timeout: 1500 } }],
    ['1', '1500', { strategy: 'standard' }],
    // Not a whole number within bounds: the default.
    ['0', '-5', { strategy: 'batching', config: { size: 10, timeout: 5000 } }],
    ['ten', '60001', { strategy: 'batching', config: { size: 10, timeout: 5000 } }],
    ['2501', '2.5', { strategy: 'batching', config: { size: 10, timeout: 5000 } }],
  ])('BROWSER_BATCH_SIZE=%s, BROWSER_BATCH_TIMEOUT_MS=%s', (size, timeout, expected) => {
    expect(deliveryStrategy(size, timeout)).toEqual(expected);
  });
});

/** Every string value in a JSON document (keys such as "Segment.io" are names, not hosts). */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(strings);
  return [];
}
