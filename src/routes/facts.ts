// What the edge knows about a request: client IP, user agent and Cloudflare's geolocation.
// Adapter: reads headers and `request.cf`, returns the plain RequestFacts the core takes.

import type { RequestFacts } from '../segment/enrich';
import { USER_AGENT_MAX_CHARS } from '../segment/limits';
import { formatIsoTimestamp } from '../segment/timestamp';
import type { GeoLocation } from '../segment/types';

type Cf = Partial<
  Record<
    'country' | 'region' | 'city' | 'timezone' | 'postalCode' | 'latitude' | 'longitude',
    unknown
  >
>;

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function coordinate(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return value !== '' && Number.isFinite(n) ? n : undefined;
}

/** Cloudflare's `request.cf` geolocation narrowed to Segment's `context.location` fields. */
export function locationFromCf(cf: Cf | undefined): GeoLocation | undefined {
  if (cf === undefined) return undefined;
  const location: GeoLocation = {};
  const country = text(cf.country);
  const region = text(cf.region);
  const city = text(cf.city);
  const timezone = text(cf.timezone);
  const postalCode = text(cf.postalCode);
  const latitude = coordinate(cf.latitude);
  const longitude = coordinate(cf.longitude);
  if (country !== undefined) location.country = country;
  if (region !== undefined) location.region = region;
  if (city !== undefined) location.city = city;
  if (timezone !== undefined) location.timezone = timezone;
  if (postalCode !== undefined) location.postalCode = postalCode;
  if (latitude !== undefined) location.latitude = latitude;
  if (longitude !== undefined) location.longitude = longitude;
  return Object.keys(location).length > 0 ? location : undefined;
}

export function requestFacts(request: Request, receivedAt: number): RequestFacts {
  const facts: RequestFacts = { receivedAt, receivedAtIso: formatIsoTimestamp(receivedAt) };
  // Set by Cloudflare's edge (and by wrangler dev / Miniflare locally) to the client address.
  const ip = request.headers.get('cf-connecting-ip');
  if (ip !== null && ip !== '') facts.ip = ip;
  const userAgent = request.headers.get('user-agent');
  if (userAgent !== null && userAgent !== '')
    facts.userAgent = userAgent.slice(0, USER_AGENT_MAX_CHARS);
  const location = locationFromCf(request.cf as Cf | undefined);
  if (location !== undefined) facts.location = location;
  return facts;
}
