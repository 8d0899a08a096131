// What `npm start` runs with: ports, the Worker's vars and the admin token, resolved from
// `--var NAME:value` arguments, the environment, .dev.vars and defaults, in that order of
// precedence. Pure: the environment, the arguments, .dev.vars' parsed content and the token
// maker are parameters (scripts/dev.ts reads them).

import { parseWriteKeySpec } from '../../src/segment/write-keys';
import { SEED_WRITE_KEYS } from '../stack';

// The seed project's ports: the collector where wrangler dev listens by default, the local
// Firehose where the seed's localstack Firehose listened.
export const DEFAULT_PORT = 8787;
export const DEFAULT_FIREHOSE_PORT = 4573;
// Ours: the local Segment-compatible endpoint forwarding posts to, next to the collector's.
export const DEFAULT_SEGMENT_PORT = 8788;
export const DEFAULT_STREAM = 'ndc-segment';
// Where the local endpoint's files, wrangler's state and logs go (gitignored).
export const DEFAULT_DATA_DIR = '.data';

/** The Worker's settings that `npm start` takes from the environment (src/env.ts). */
export const ENVIRONMENT_VARS = [
  'WRITE_KEYS',
  'ADMIN_TOKEN',
  'METRICS_TOKEN',
  'ALLOWED_ORIGINS',
  'ANONYMIZE_IP',
  'FIREHOSE_STREAM',
  'FIREHOSE_TIMEOUT_SECONDS',
  'DELIVERY_RETRY_MAX_SECONDS',
  'HEALTH_MAX_DELIVERY_DELAY_SECONDS',
  'FORWARD_ENDPOINT',
  'FORWARD_WRITE_KEYS',
  'PRIVACY_HASH_KEY',
] as const;

/**
 * Where and how the Worker delivers. The stack wires them to the local endpoint; they count
 * only when FIREHOSE_ENDPOINT is also given (in .dev.vars or `--var`). Never read from the
 * environment: a shell's AWS_* are for the AWS CLI, and the local endpoint would refuse them.
 */
export const DELIVERY_VARS = [
  'FIREHOSE_ENDPOINT',
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
] as const;

export const USAGE = `Usage: [PORT=${DEFAULT_PORT}] [FIREHOSE_PORT=${DEFAULT_FIREHOSE_PORT}] [SEGMENT_PORT=${DEFAULT_SEGMENT_PORT}] [DATA_DIR=${DEFAULT_DATA_DIR}] npm start [-- --var NAME:value ...]

Runs the collector (wrangler dev) and a local Firehose endpoint; with FORWARD_WRITE_KEYS and no
FORWARD_ENDPOINT, also a local Segment-compatible endpoint it forwards to (on SEGMENT_PORT).
The Worker's settings come from --var NAME:value first, then these environment variables, then
.dev.vars:
  ${ENVIRONMENT_VARS.join(' ')}
Guide: docs/local-development.md
`;

export interface DevInput {
  env: Readonly<Record<string, string | undefined>>;
  argv: readonly string[];
  /** .dev.vars' entries, or undefined when there is no .dev.vars. */
  devVars: Readonly<Record<string, string>> | undefined;
  /** Makes the local admin token when none is given. */
  newToken: () => string;
}

export interface DevConfig {
  port: number;
  firehosePort: number;
  /** The local Segment endpoint's port, used when `forwardWriteKeys` is set. */
  segmentPort: number;
  /**
   * FORWARD_WRITE_KEYS when forwarding goes to the local Segment endpoint (no FORWARD_ENDPOINT
   * given); undefined otherwise.
   */
  forwardWriteKeys: string | undefined;
  /** FORWARD_ENDPOINT when given: forwarding goes there, not to a local endpoint. */
  forwardEndpoint: string | undefined;
  /** Holds firehose/ (delivered files), wrangler/ (local state) and logs/. */
  dataDir: string;
  stream: string;
  writeKeys: string;
  /** The Worker's vars besides WRITE_KEYS and FIREHOSE_STREAM (stack.ts adds those). */
  vars: Record<string, string>;
  /** A key from WRITE_KEYS that works; undefined when WRITE_KEYS names none. */
  writeKey: string | undefined;
  /** Bearer token for /admin/*; undefined when given empty (the admin API is then off). */
  adminToken: string | undefined;
  adminTokenGenerated: boolean;
  /** Bearer token for /metrics; undefined when /metrics is open. */
  metricsToken: string | undefined;
  /** Set when FIREHOSE_ENDPOINT was given: the Worker delivers there, not locally. */
  firehoseEndpoint: string | undefined;
  /** Settings that were given but are not used, each with the reason. */
  ignored: string[];
}

export type DevConfigResult = { ok: true; value: DevConfig } | { ok: false; error: string };

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `--var NAME:value` (or `--var=NAME:value`) pairs; a later one wins. */
export function parseVarArgs(
  argv: readonly string[],
): { ok: true; value: Record<string, string> } | { ok: false; error: string } {
  const vars: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    let pair: string | undefined;
    if (arg === '--var') pair = argv[++i];
    else if (arg.startsWith('--var=')) pair = arg.slice('--var='.length);
    else return { ok: false, error: `unknown argument ${arg}: expected --var NAME:value` };
    const colon = pair?.indexOf(':') ?? -1;
    const name = pair?.slice(0, colon) ?? '';
    if (pair === undefined || colon === -1 || !VAR_NAME.test(name)) {
      return { ok: false, error: `--var takes NAME:value, got ${pair ?? 'nothing'}` };
    }
    vars[name] = pair.slice(colon + 1);
  }
  return { ok: true, value: vars };
}

function portFrom(
  env: DevInput['env'],
  name: 'PORT' | 'FIREHOSE_PORT' | 'SEGMENT_PORT',
  fallback: number,
): number | string {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const port = Number(raw);
  return Number.isInteger(port) && port >= 0 && port <= 65_535
    ? port
    : `${name} must be a port number from 0 to 65535, got ${raw}`;
}

/** The settings `npm start` runs with; an error for arguments or ports it cannot use. */
export function resolveDevConfig(input: DevInput): DevConfigResult {
  const args = parseVarArgs(input.argv);
  if (!args.ok) return { ok: false, error: args.error };
  const port = portFrom(input.env, 'PORT', DEFAULT_PORT);
  if (typeof port === 'string') return { ok: false, error: port };
  const firehosePort = portFrom(input.env, 'FIREHOSE_PORT', DEFAULT_FIREHOSE_PORT);
  if (typeof firehosePort === 'string') return { ok: false, error: firehosePort };
  const segmentPort = portFrom(input.env, 'SEGMENT_PORT', DEFAULT_SEGMENT_PORT);
  if (typeof segmentPort === 'string') return { ok: false, error: segmentPort };

  // An empty environment variable counts as unset (`WRITE_KEYS= npm start`); an empty --var
  // or .dev.vars entry is a value.
  const fromEnvironment: Record<string, string> = {};
  for (const name of ENVIRONMENT_VARS) {
    const value = input.env[name];
    if (value !== undefined && value !== '') fromEnvironment[name] = value;
  }
  const merged: Record<string, string> = {
    ...input.devVars,
    ...fromEnvironment,
    ...args.value,
  };

  const ignored: string[] = [];
  const endpoint = merged['FIREHOSE_ENDPOINT'];
  const delivers = endpoint !== undefined && endpoint !== '';
  if (!delivers) {
    for (const name of DELIVERY_VARS) {
      if (name in merged) {
        if (name !== 'FIREHOSE_ENDPOINT') {
          ignored.push(
            `${name}: delivery goes to the local Firehose endpoint, which has its own ` +
              'credentials (set FIREHOSE_ENDPOINT too, to deliver elsewhere)',
          );
        }
        delete merged[name];
      }
    }
  }

  const writeKeys = merged['WRITE_KEYS'] ?? SEED_WRITE_KEYS;
  const stream = merged['FIREHOSE_STREAM'] ?? DEFAULT_STREAM;
  const given = merged['ADMIN_TOKEN'];
  const adminToken = given ?? input.newToken();
  const { WRITE_KEYS: _keys, FIREHOSE_STREAM: _stream, ...rest } = merged;
  const nonEmpty = (value: string | undefined): string | undefined =>
    value === '' ? undefined : value;
  const forwardEndpoint = nonEmpty(merged['FORWARD_ENDPOINT']);
  const forwardWriteKeys = nonEmpty(merged['FORWARD_WRITE_KEYS']);
  return {
    ok: true,
    value: {
      port,
      firehosePort,
      segmentPort,
      forwardWriteKeys: forwardEndpoint === undefined ? forwardWriteKeys : undefined,
      forwardEndpoint,
      dataDir: input.env['DATA_DIR'] || DEFAULT_DATA_DIR,
      stream,
      writeKeys,
      vars: { ...rest, ADMIN_TOKEN: adminToken },
      writeKey: parseWriteKeySpec(writeKeys)[0]?.key,
      adminToken: nonEmpty(adminToken),
      adminTokenGenerated: given === undefined,
      metricsToken: nonEmpty(merged['METRICS_TOKEN']),
      firehoseEndpoint: delivers ? endpoint : undefined,
      ignored,
    },
  };
}
