// Reading the dedupe vars. Pure.

import { DEDUPE_SHARDS_DEFAULT, DEDUPE_SHARDS_MAX, DEDUPE_WINDOW_DEFAULT_SECONDS } from './limits';

// Ours: the longest window accepted, a day (Segment's own is about 24 hours): past it a shard's
// memory at a few thousand events/s would not fit a Durable Object.
export const DEDUPE_WINDOW_MAX_SECONDS = 86_400;

/** DEDUPE_WINDOW_SECONDS: whole seconds from 0 (off) to a day; anything else is the default. */
export function dedupeWindowSeconds(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEDUPE_WINDOW_DEFAULT_SECONDS;
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 && n <= DEDUPE_WINDOW_MAX_SECONDS
    ? n
    : DEDUPE_WINDOW_DEFAULT_SECONDS;
}

/** DEDUPE_SHARDS: an integer from 1 to DEDUPE_SHARDS_MAX; anything else is the default. */
export function dedupeShards(value: string | undefined): number {
  const n = Number(value);
  return value !== undefined && Number.isInteger(n) && n >= 1 && n <= DEDUPE_SHARDS_MAX
    ? n
    : DEDUPE_SHARDS_DEFAULT;
}
