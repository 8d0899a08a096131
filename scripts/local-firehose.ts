// CLI for the local Firehose endpoint: `npx tsx scripts/local-firehose.ts [flags]`. Parses the
// flags, starts the server from scripts/local-firehose/server.ts, prints one startup line (with
// the real URL, also when --port 0 picked one) and one line per call, and stops cleanly on
// SIGINT/SIGTERM.

import { parseArgs } from 'node:util';
import {
  DEFAULT_LATE_ANSWER_MS,
  DEFAULT_STALL_MS,
  MAX_CALL_BYTES_CAP,
  MAX_FAULT_DELAY_MS,
} from './local-firehose/faults';
import type { Faults } from './local-firehose/faults';
import {
  DEFAULT_ACCESS_KEY_ID,
  DEFAULT_HOST,
  DEFAULT_REGION,
  DEFAULT_SECRET_ACCESS_KEY,
  createLocalFirehose,
} from './local-firehose/server';

// The port the seed project's localstack Firehose listened on, so existing configs still work.
export const DEFAULT_PORT = 4573;
export const DEFAULT_DATA_DIR = '.data/firehose';

const USAGE = `Usage: npx tsx scripts/local-firehose.ts [flags]

  --port <n>                 listen port (default ${DEFAULT_PORT}; 0 picks a free one)
  --host <addr>              listen address (default ${DEFAULT_HOST})
  --data-dir <dir>           where records land (default ${DEFAULT_DATA_DIR})
  --region <r[,r2…]>         SigV4 region(s) signatures may name (default ${DEFAULT_REGION})
  --access-key-id <id>       default $AWS_ACCESS_KEY_ID or '${DEFAULT_ACCESS_KEY_ID}'
  --secret-access-key <s>    default $AWS_SECRET_ACCESS_KEY or '${DEFAULT_SECRET_ACCESS_KEY}'
  --session-token <t>        require this X-Amz-Security-Token (default: not checked)
  --streams <a,b>            known stream names (default: any valid name)
  --fail-records <0..1>      share of records failed with ServiceUnavailableException
  --throttle <0..1>          share of calls answered 503 ServiceUnavailableException
  --error-500 <0..1>         share of calls answered 500 InternalFailure
  --not-found <0..1>         share of calls answered 400 ResourceNotFoundException
  --latency-ms <n>           delay every API response by n ms
  --stall <0..1>             share of calls held for --stall-ms, then answered 500
  --stall-ms <n>             (default ${DEFAULT_STALL_MS})
  --late-answer <0..1>       share of calls written, then answered after --late-answer-ms
  --late-answer-ms <n>       (default ${DEFAULT_LATE_ANSWER_MS})
  --expired-token <0..1>     share of calls answered 400 ExpiredTokenException
  --max-call-bytes <n>       refuse a call whose decoded data exceeds n bytes with 400
                             InvalidArgumentException (default 0: off; at most ${MAX_CALL_BYTES_CAP})
  --seed <n>                 fault PRNG seed (default random, printed at start)
  --quiet                    no per-call log lines
  --help
`;

class UsageError extends Error {}

function fraction(flag: string, value: string | undefined): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new UsageError(`--${flag} must be a number from 0 to 1, got '${value}'`);
  }
  return n;
}

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, got '${value}'`);
  }
  return n;
}

function parseFlags(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string', default: String(DEFAULT_PORT) },
      host: { type: 'string', default: DEFAULT_HOST },
      'data-dir': { type: 'string', default: DEFAULT_DATA_DIR },
      region: { type: 'string', default: DEFAULT_REGION },
      'access-key-id': { type: 'string' },
      'secret-access-key': { type: 'string' },
      'session-token': { type: 'string' },
      streams: { type: 'string' },
      'fail-records': { type: 'string' },
      throttle: { type: 'string' },
      'error-500': { type: 'string' },
      'not-found': { type: 'string' },
      'latency-ms': { type: 'string', default: '0' },
      stall: { type: 'string' },
      'stall-ms': { type: 'string', default: String(DEFAULT_STALL_MS) },
      'late-answer': { type: 'string' },
      'late-answer-ms': { type: 'string', default: String(DEFAULT_LATE_ANSWER_MS) },
      'expired-token': { type: 'string' },
      'max-call-bytes': { type: 'string', default: '0' },
      seed: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const faults: Faults = {
    failRecords: fraction('fail-records', values['fail-records']),
    throttle: fraction('throttle', values.throttle),
    error500: fraction('error-500', values['error-500']),
    notFound: fraction('not-found', values['not-found']),
    latencyMs: integer('latency-ms', values['latency-ms'], 0, MAX_FAULT_DELAY_MS),
    stall: fraction('stall', values.stall),
    stallMs: integer('stall-ms', values['stall-ms'], 0, MAX_FAULT_DELAY_MS),
    lateAnswer: fraction('late-answer', values['late-answer']),
    lateAnswerMs: integer('late-answer-ms', values['late-answer-ms'], 0, MAX_FAULT_DELAY_MS),
    expiredToken: fraction('expired-token', values['expired-token']),
    maxCallBytes: integer('max-call-bytes', values['max-call-bytes'], 0, MAX_CALL_BYTES_CAP),
  };
  const streams = values.streams
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return {
    help: values.help,
    quiet: values.quiet,
    port: integer('port', values.port, 0, 65_535),
    host: values.host,
    dataDir: values['data-dir'],
    region: values.region,
    accessKeyId:
      values['access-key-id'] ?? process.env['AWS_ACCESS_KEY_ID'] ?? DEFAULT_ACCESS_KEY_ID,
    secretAccessKey:
      values['secret-access-key'] ??
      process.env['AWS_SECRET_ACCESS_KEY'] ??
      DEFAULT_SECRET_ACCESS_KEY,
    sessionToken: values['session-token'],
    streams,
    faults,
    seed:
      values.seed === undefined
        ? undefined
        : integer('seed', values.seed, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  };
}

function describeFaults(faults: Faults): string {
  // A hold time means something only beside its share, so it is shown only with it.
  const holds = ['stallMs', 'lateAnswerMs'];
  const on = Object.entries(faults).filter(([key, value]) => !holds.includes(key) && value !== 0);
  if (faults.stall > 0) on.push(['stallMs', faults.stallMs]);
  if (faults.lateAnswer > 0) on.push(['lateAnswerMs', faults.lateAnswerMs]);
  return on.length === 0 ? 'none' : on.map(([key, value]) => `${key}=${value}`).join(' ');
}

async function main(): Promise<void> {
  let flags: ReturnType<typeof parseFlags>;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (flags.help) {
    process.stdout.write(USAGE);
    return;
  }
  const line = (text: string): void => {
    process.stdout.write(`${new Date().toISOString()} ${text}\n`);
  };
  const firehose = await createLocalFirehose({
    host: flags.host,
    port: flags.port,
    dataDir: flags.dataDir,
    // "eu-west-1,us-east-1": the first, and the others too (FIREHOSE_ROUTES' regions).
    region: flags.region.split(',')[0]?.trim() ?? flags.region,
    regions: flags.region
      .split(',')
      .slice(1)
      .map((r) => r.trim())
      .filter((r) => r !== ''),
    accessKeyId: flags.accessKeyId,
    secretAccessKey: flags.secretAccessKey,
    ...(flags.sessionToken === undefined ? {} : { sessionToken: flags.sessionToken }),
    ...(flags.streams === undefined ? {} : { streams: flags.streams }),
    faults: flags.faults,
    ...(flags.seed === undefined ? {} : { seed: flags.seed }),
    log: flags.quiet ? (): void => {} : line,
  });
  process.stdout.write(
    `local-firehose listening on ${firehose.url} data-dir=${firehose.dataDir} ` +
      `region=${flags.region} access-key-id=${flags.accessKeyId} ` +
      `streams=${flags.streams?.join(',') ?? '*'} seed=${firehose.seed} ` +
      `faults=${describeFaults(flags.faults)}\n`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second signal while closing: give up waiting.
      process.exit(1);
    }
    stopping = true;
    line(`${signal}: stopping`);
    firehose.close().then(
      () => {
        const stats = firehose.stats();
        line(
          `stopped calls=${stats.calls} accepted=${stats.recordsAccepted} ` +
            `failed=${stats.recordsFailed} bytes=${stats.bytesWritten} files=${stats.filesWritten}`,
        );
      },
      (err: unknown) => {
        process.stderr.write(`close failed: ${String(err)}\n`);
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`local-firehose: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
