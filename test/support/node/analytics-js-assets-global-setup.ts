// Vitest global setup (Node) for the workers project: the Worker's static assets (analytics.js,
// copied from the pinned package into ./assets, which is not committed) must exist before the
// pool starts the Worker, on a clean clone too. wrangler runs the same script for dev and
// deploy ([build] in wrangler.toml); the pool does not.
import { syncAnalyticsJsAssets } from '../../../scripts/analytics-js-assets';

export default async function setup(): Promise<void> {
  await syncAnalyticsJsAssets();
}
