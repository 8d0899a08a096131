import { describe, expect, it } from 'vitest';
import { settingsFor } from '../../src/analytics-js/settings';

describe('settingsFor', () => {
  it('names the given origin as the only destination and turns off everything that loads code', () => {
    expect(settingsFor('wk', { host: 'collect.example.com', protocol: 'https' })).toEqual({
      integrations: {
        'Segment.io': { apiKey: 'wk', apiHost: 'collect.example.com/v1', protocol: 'https' },
      },
      plan: { track: { __default: { enabled: true } }, identify: { __default: { enabled: true } } },
      metrics: { sampleRate: 0 },
      enabledMiddleware: {},
      middlewareSettings: { routingRules: [] },
      remotePlugins: [],
      legacyVideoPluginsEnabled: false,
    });
  });

  it('leaves out consentSettings, which would make consent wrappers stop analytics.js', () => {
    expect(settingsFor('wk', { host: 'h', protocol: 'http' })).not.toHaveProperty(
      'consentSettings',
    );
  });

  it('names no host but the given one in any value', () => {
    const values = strings(settingsFor('wk', { host: '127.0.0.1:8787', protocol: 'http' }));
    const hosts = values.flatMap((v) => v.match(/[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?/gi) ?? []);
    expect(hosts).toEqual(['127.0.0.1:8787']);
  });
});

/** Every string value in a JSON document (keys such as "Segment.io" are names, not hosts). */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(strings);
  return [];
}
