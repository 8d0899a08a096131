// Segment spec types shared by the pure core: event types, their paths, and the Result shape.
// Pure: no I/O.

// Segment spec "Common fields" / the six call types of the HTTP Tracking API.
export const EVENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

// analytics.js (analytics-next) posts single calls to the first letter of the type:
// /v1/t, /v1/i, /v1/p, /v1/s, /v1/g, /v1/a.
export const PATH_TYPES: Readonly<Record<string, EventType>> = {
  track: 'track',
  identify: 'identify',
  page: 'page',
  screen: 'screen',
  group: 'group',
  alias: 'alias',
  t: 'track',
  i: 'identify',
  p: 'page',
  s: 'screen',
  g: 'group',
  a: 'alias',
};

export type JsonObject = { [key: string]: unknown };

export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const err = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Geolocation facts from Cloudflare's `request.cf`, already narrowed to Segment's shape. */
export interface GeoLocation {
  country?: string;
  region?: string;
  city?: string;
  timezone?: string;
  postalCode?: string;
  latitude?: number;
  longitude?: number;
}
