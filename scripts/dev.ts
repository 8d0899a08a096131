// `npm start`: runs the collector locally end to end under `wrangler dev` (offline), with the
// seed's write key accepted so `curl -d @track.json` works out of the box.
// Environment: PORT (default 8787), WRITE_KEYS (default: track.json's key as source ndc-demo).
import { spawn } from 'node:child_process';

// track.json (the seed's sample call) carries this key.
const SEED_WRITE_KEYS = '8GT90rhOugcEGAqdcBWP8muss7iSwwHy=ndc-demo';

const port = process.env['PORT'] ?? '8787';
const writeKeys = process.env['WRITE_KEYS'] ?? SEED_WRITE_KEYS;

const wrangler = spawn(
  'npx',
  [
    'wrangler',
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    port,
    '--persist-to',
    '.data/wrangler',
    '--var',
    `WRITE_KEYS:${writeKeys}`,
  ],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      // Keep wrangler dev offline: no update check, telemetry or request.cf download.
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      WRANGLER_SEND_METRICS: 'false',
      WRANGLER_HIDE_BANNER: 'true',
    },
  },
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => wrangler.kill(signal));
}
wrangler.on('exit', (code) => process.exit(code ?? 0));
