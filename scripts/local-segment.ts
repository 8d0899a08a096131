// CLI for the local Segment-compatible endpoint: `npx tsx scripts/local-segment.ts [flags]`.
// Starts scripts/local-segment/server.ts, prints one startup line (with the real URL) and one
// line per call, and stops cleanly on SIGINT/SIGTERM. Point FORWARD_ENDPOINT at
// `<url>/v1/batch` (docs/forwarding.md).

import { parseArgs } from 'node:util';
import { DEFAULT_STALL_MS, type Faults } from './local-segment/faults';
import { DEFAULT_HOST, createLocalSegment } from './local-segment/server';

export const DEFAULT_PORT = 8788;
export const DEFAULT_DATA_DIR = '.data/segment';

const USAGE = `Usage: npx tsx scripts/local-segment.ts [flags]

  --port <n>               listen port (default ${DEFAULT_PORT}; 0 picks a free one)
  --host <addr>            listen address (default ${DEFAULT_HOST})
  --data-dir <dir>         where accepted events land (default ${DEFAULT_DATA_DIR})
  --write-keys <a,b>       write keys accepted (default: any non-empty key)
  --down <0..1>            share of calls dropped without an answer
  --stall <0..1>           share of calls held for --stall-ms, then answered 500
  --stall-ms <n>           (default ${DEFAULT_STALL_MS})
  --throttle <0..1>        share of calls answered 429
  --retry-after <s>        Retry-After of a 429, seconds (default 1; 0: none)
  --error-500 <0..1>       share of calls answered 500
  --bad-request <0..1>     share of calls answered 400
  --latency-ms <n>         delay every answer by n ms
  --seed <n>               fault PRNG seed (default random)
  --quiet                  no per-call log lines
  --help
`;

function number(flag: string, value: string | undefined, min: number, max: number): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max)
    throw new Error(`--${flag} must be a number from ${min} to ${max}, got '${value}'`);
  return n;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      strict: true,
      options: {
        port: { type: 'string', default: String(DEFAULT_PORT) },
        host: { type: 'string', default: DEFAULT_HOST },
        'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
        'write-keys': { type: 'string' },
        down: { type: 'string' },
        stall: { type: 'string' },
        'stall-ms': { type: 'string', default: String(DEFAULT_STALL_MS) },
        throttle: { type: 'string' },
        'retry-after': { type: 'string', default: '1' },
        'error-500': { type: 'string' },
        'bad-request': { type: 'string' },
        'latency-ms': { type: 'string', default: '0' },
        seed: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
    if (values.help) {
      process.stdout.write(USAGE);
      return;
    }
    const faults: Faults = {
      down: number('down', values.down, 0, 1),
      stall: number('stall', values.stall, 0, 1),
      stallMs: Math.round(number('stall-ms', values['stall-ms'], 0, 3_600_000)),
      throttle: number('throttle', values.throttle, 0, 1),
      retryAfterSeconds: Math.round(number('retry-after', values['retry-after'], 0, 86_400)),
      error500: number('error-500', values['error-500'], 0, 1),
      badRequest: number('bad-request', values['bad-request'], 0, 1),
      latencyMs: Math.round(number('latency-ms', values['latency-ms'], 0, 3_600_000)),
    };
    const writeKeys = values['write-keys']
      ?.split(',')
      .map((k) => k.trim())
      .filter((k) => k !== '');
    const line = (text: string): void => {
      process.stdout.write(`${new Date().toISOString()} ${text}\n`);
    };
    const segment = await createLocalSegment({
      host: values.host,
      port: Math.round(number('port', values.port, 0, 65_535)),
      dataDir: values['data-dir'],
      ...(writeKeys === undefined ? {} : { writeKeys }),
      faults,
      ...(values.seed === undefined
        ? {}
        : { seed: Math.round(number('seed', values.seed, -2e9, 2e9)) }),
      log: values.quiet ? (): void => {} : line,
    });
    process.stdout.write(
      `local-segment listening on ${segment.url}/v1/batch data-dir=${segment.dataDir} ` +
        `write-keys=${writeKeys?.length ?? '*'} seed=${segment.stats().seed}\n`,
    );
    const stop = (): void => {
      void segment.close().then(() => {
        const stats = segment.stats();
        line(`stopped calls=${stats.calls} events=${stats.eventsAccepted}`);
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    process.exitCode = 2;
  }
}

void main();
