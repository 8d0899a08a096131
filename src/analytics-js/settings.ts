// The settings document analytics.js fetches at boot (`${cdn}/v1/projects/<writeKey>/settings`,
// analytics-next src/browser/index.ts loadCDNSettings). Pure. Every field analytics-next 1.84.3
// reads from it is set so that the browser talks to this collector and to no other host.

import type { DeliveryStrategy } from './delivery';
import type { PublicOrigin } from './public-host';

export interface AnalyticsJsSettings {
  integrations: {
    'Segment.io': {
      apiKey: string;
      apiHost: string;
      protocol: PublicOrigin['protocol'];
      deliveryStrategy: DeliveryStrategy;
    };
  };
  plan: {
    track: { __default: { enabled: boolean } };
    identify: { __default: { enabled: boolean } };
  };
  metrics: { sampleRate: number };
  enabledMiddleware: Record<string, boolean>;
  middlewareSettings: { routingRules: never[] };
  remotePlugins: never[];
  legacyVideoPluginsEnabled: boolean;
}

/**
 * What each field does in analytics-next 1.84.3 (src/browser/index.ts unless named):
 * - `integrations`: only "Segment.io", so no device-mode destination is loaded (more than one
 *   key loads the ajs-destination chunk, which fetches each destination's script from
 *   `${cdn}/next-integrations/`). The Segment.io plugin (src/plugins/segmentio/index.ts) posts
 *   to `${protocol}://${apiHost}`: this collector's host with `/v1`; its `deliveryStrategy`
 *   batches the calls unless BROWSER_BATCH_SIZE is 1 (src/analytics-js/delivery.ts).
 * - `metrics.sampleRate: 0`: analytics.js's own telemetry (src/core/stats/remote-metrics.ts,
 *   posted to api.segment.io/v1/m by default) is never sent; the collector has no /v1/m.
 * - `remotePlugins: []`: each remote plugin is a script URL loaded into the page
 *   (src/plugins/remote-loader/index.ts).
 * - `enabledMiddleware: {}`: an enabled one loads the remoteMiddleware chunk, which fetches
 *   middleware scripts from `${cdn}/next-integrations/` (src/plugins/remote-middleware).
 * - `middlewareSettings.routingRules: []`: rules load the tsub-middleware chunk.
 * - `legacyVideoPluginsEnabled: false`: true loads video plugins that call the YouTube and Vimeo
 *   APIs.
 * - `plan`: read only by device-mode destinations (src/plugins/ajs-destination), so inert here;
 *   kept as the shape Segment's own settings have, with every event enabled.
 * Left out on purpose: `consentSettings`, which analytics-next does not read; Segment's consent
 * wrappers do, and `{hasUnmappedDestinations: false}` with no categories makes them stop
 * analytics.js (analytics-consent-tools src/domain/disable-segment.ts). `edgeFunction` and
 * `autoInstrumentationSettings` are read only by the analytics-signals plugin, which the
 * standalone build does not include.
 */
export function settingsFor(
  writeKey: string,
  origin: PublicOrigin,
  delivery: DeliveryStrategy,
): AnalyticsJsSettings {
  return {
    integrations: {
      'Segment.io': {
        apiKey: writeKey,
        apiHost: `${origin.host}/v1`,
        protocol: origin.protocol,
        deliveryStrategy: delivery,
      },
    },
    plan: { track: { __default: { enabled: true } }, identify: { __default: { enabled: true } } },
    metrics: { sampleRate: 0 },
    enabledMiddleware: {},
    middlewareSettings: { routingRules: [] },
    remotePlugins: [],
    legacyVideoPluginsEnabled: false,
  };
}
