// How tracking plans are laid out in the TRACKING_PLANS KV namespace. Pure: key names, plan
// versions and the index's codec.
//
//   index                    {"v":1,"plans":{"<source>":"<version>",…}}: every source's current
//                            version, so one read tells an isolate about every source
//   head:<source>            the source's current version (value and metadata): the truth the
//                            index is rebuilt from, with one list() call
//   plan:<source>:<version>  the plan document; written once, never changed
//
// A version is the save time and a random suffix, `20261129T100000000Z-3f9a2c1d`: unique, so
// two saves never share a body key, and ordered by time, so an isolate can tell a newer version
// from an older one.

import { isJsonObject } from '../segment/types';

export const INDEX_KEY = 'index';
export const HEAD_PREFIX = 'head:';
export const INDEX_FORMAT_VERSION = 1;

export function headKey(source: string): string {
  return `${HEAD_PREFIX}${source}`;
}

export function planKey(source: string, version: string): string {
  return `plan:${source}:${version}`;
}

// Ours: 8 characters of the id maker's output (a UUID in production) set apart two saves in the
// same millisecond.
const SUFFIX_CHARS = 8;

/** A new version for a plan saved at `now` (ms), suffixed with part of a fresh id. */
export function makeVersion(now: number, id: string): string {
  const stamp = new Date(now).toISOString().replace(/[-:.]/g, '');
  return `${stamp}-${id.replace(/[^A-Za-z0-9]/g, '').slice(-SUFFIX_CHARS)}`;
}

const VERSION = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-[A-Za-z0-9]+$/;

/** When a version was made (ms since the epoch), or undefined for a string that is not one. */
export function versionTime(version: string): number | undefined {
  const m = VERSION.exec(version);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, ms] = m;
  const t = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`);
  return Number.isNaN(t) ? undefined : t;
}

export function encodeIndex(plans: ReadonlyMap<string, string>): string {
  return JSON.stringify({ v: INDEX_FORMAT_VERSION, plans: Object.fromEntries(plans) });
}

/** The index as read from KV (parsed JSON, or null when absent): source → version. */
export function parseIndex(value: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (!isJsonObject(value) || !isJsonObject(value['plans'])) return out;
  for (const [source, version] of Object.entries(value['plans'])) {
    if (typeof version === 'string') out.set(source, version);
  }
  return out;
}
