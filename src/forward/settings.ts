// Forwarding configuration: FORWARD_ENDPOINT (the /v1/batch URL), FORWARD_WRITE_KEYS (which
// sources are forwarded, each with the destination's write key) and FORWARD_TIMEOUT_SECONDS.
// Pure: plain strings in, settings or the reason they are unusable out.

import { SOURCE_NAME } from '../segment/write-keys';
import { FORWARD_CALL_TIMEOUT_MS } from './limits';

export interface ForwardVars {
  FORWARD_ENDPOINT?: string | undefined;
  FORWARD_WRITE_KEYS?: string | undefined;
  FORWARD_TIMEOUT_SECONDS?: string | undefined;
}

export interface ForwardSettings {
  /** The /v1/batch URL every call goes to; nothing else is ever contacted. */
  endpoint: string;
  /** The destination write key of each forwarded source, by source name. */
  writeKeys: ReadonlyMap<string, string>;
  timeoutMs: number;
  /** Items of FORWARD_WRITE_KEYS that are not `source=writeKey` (or repeat a source). */
  invalidEntries: number;
}

export type ForwardConfig =
  { kind: 'off' } | { kind: 'invalid'; reason: string } | { kind: 'on'; settings: ForwardSettings };

/**
 * `source=destinationWriteKey` items, comma-separated; blanks ignored. An item splits at its
 * first `=`: a source name never holds one (SOURCE_NAME), a write key may (base64 padding). An
 * item without a valid source name or key, or naming a source a second time, is counted invalid
 * and left out (the first mention of a source wins).
 */
export function parseForwardWriteKeys(spec: string | undefined): {
  keys: Map<string, string>;
  invalid: number;
} {
  const keys = new Map<string, string>();
  let invalid = 0;
  for (const item of (spec ?? '').split(',')) {
    const trimmed = item.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    const source = eq === -1 ? '' : trimmed.slice(0, eq).trim();
    const key = eq === -1 ? '' : trimmed.slice(eq + 1).trim();
    if (!SOURCE_NAME.test(source) || key === '' || keys.has(source)) {
      invalid += 1;
      continue;
    }
    keys.set(source, key);
  }
  return { keys, invalid };
}

/** The endpoint as an absolute http(s) URL without credentials, or why it is not one. */
export function parseForwardEndpoint(
  value: string,
): { ok: true; url: string } | { ok: false; reason: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, reason: 'FORWARD_ENDPOINT is not an absolute URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return { ok: false, reason: 'FORWARD_ENDPOINT must be an http(s) URL' };
  // Write keys belong in FORWARD_WRITE_KEYS (a secret), never in a var that logs can show.
  if (url.username !== '' || url.password !== '')
    return { ok: false, reason: 'FORWARD_ENDPOINT must not hold credentials' };
  return { ok: true, url: url.href };
}

function timeoutMs(value: string | undefined): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isFinite(n) && n > 0
    ? n * 1000
    : FORWARD_CALL_TIMEOUT_MS;
}

/** Forwarding is off while FORWARD_ENDPOINT is unset or empty; else on, or invalid with why. */
export function forwardConfig(vars: ForwardVars): ForwardConfig {
  const raw = vars.FORWARD_ENDPOINT?.trim() ?? '';
  if (raw === '') return { kind: 'off' };
  const endpoint = parseForwardEndpoint(raw);
  if (!endpoint.ok) return { kind: 'invalid', reason: endpoint.reason };
  const { keys, invalid } = parseForwardWriteKeys(vars.FORWARD_WRITE_KEYS);
  if (keys.size === 0) {
    return {
      kind: 'invalid',
      reason: 'FORWARD_WRITE_KEYS names no source (expected source=destinationWriteKey,…)',
    };
  }
  return {
    kind: 'on',
    settings: {
      endpoint: endpoint.url,
      writeKeys: keys,
      timeoutMs: timeoutMs(vars.FORWARD_TIMEOUT_SECONDS),
      invalidEntries: invalid,
    },
  };
}

/** The sources whose events are copied for forwarding: none unless forwarding is on. */
export function forwardedSources(config: ForwardConfig): ReadonlySet<string> {
  return config.kind === 'on' ? new Set(config.settings.writeKeys.keys()) : new Set();
}
