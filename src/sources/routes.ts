// FIREHOSE_ROUTES: where one source's events go and where what is derived from them lives.
// Parsing and validation only, pure: a table in wrangler.toml (a JSON object in env) or its JSON
// text (`wrangler dev --var FIREHOSE_ROUTES:'{…}'`) in, the routes or every problem found out.
// Whether the bindings a route names exist is checked against env by src/sources/placement.ts.
//
//   { "eu-web": { "region": "eu-west-1", "streams": ["eu-events-1", "eu-events-2"],
//                 "queues": ["EVENTS_EU"], "jurisdiction": "eu", "archive": "ARCHIVE_EU" } }
//
// Every field but `streams` is optional. A source without a route uses FIREHOSE_STREAM and
// AWS_REGION, the events queues EVENTS / EVENTS_<n> no route names, the Durable Objects without a
// jurisdiction and ARCHIVE (docs/configuration.md, docs/residency.md).

import { err, isJsonObject, ok, type Result } from '../segment/types';
import { SOURCE_NAME } from '../segment/write-keys';

/**
 * Jurisdictions a route may name: those Queues, Durable Objects and R2 all accept. Queues
 * "Data location": eu, us, fedramp; Durable Objects "Data location": eu, fedramp (and us since
 * 2026-06); R2 "Data location": eu, fedramp (and us since 2026-08).
 */
export const JURISDICTIONS = ['eu', 'us', 'fedramp'] as const;
export type Jurisdiction = (typeof JURISDICTIONS)[number];

export interface SourceRoute {
  /** AWS region: SigV4's and the endpoint's (https://firehose.<region>.amazonaws.com/). */
  region?: string;
  /** The source's delivery streams, every one of them used (src/firehose/pack.ts). */
  streams: readonly string[];
  /** Producer bindings that carry this source's events, and no unrouted source's. */
  queues?: readonly string[];
  /** Where its dedupe shards and its debugger object are placed. */
  jurisdiction?: Jurisdiction;
  /** The R2 binding its dead letters and blocked events are written to. */
  archive?: string;
}

export interface Routes {
  bySource: ReadonlyMap<string, SourceRoute>;
  /** Every queue binding some route names: no unrouted source's events go on them. */
  claimedQueues: ReadonlySet<string>;
}

export const NO_ROUTES: Routes = { bySource: new Map(), claimedQueues: new Set() };

const FIELDS = ['region', 'streams', 'queues', 'jurisdiction', 'archive'] as const;

// Firehose API reference, CreateDeliveryStream: DeliveryStreamName, 1–64 characters of
// [a-zA-Z0-9_.-].
const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;
// AWS General Reference, "Regional endpoints": region codes such as us-east-1, eu-central-2,
// us-gov-west-1, ap-southeast-5.
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
// Workers docs, "Bindings": a binding's name is a JavaScript identifier.
const BINDING_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
// Bindings with a role of their own (src/env.ts): a route's events never go on them.
const RESERVED_QUEUES: ReadonlySet<string> = new Set(['DLQ', 'FORWARD', 'FORWARD_DLQ']);

const quote = (s: string): string => JSON.stringify(s);

/** A list of distinct names, each matching `pattern`; problems go to `problems`. */
function names(
  value: unknown,
  where: string,
  pattern: RegExp,
  what: string,
  problems: string[],
): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    problems.push(`${where} must be a non-empty list of ${what}`);
    return undefined;
  }
  const out: string[] = [];
  for (const item of value) {
    if (typeof item !== 'string' || !pattern.test(item)) {
      problems.push(`${where} has ${JSON.stringify(item)}, which is not a valid ${what}`);
    } else if (out.includes(item)) {
      problems.push(`${where} names ${quote(item)} twice`);
    } else out.push(item);
  }
  return out;
}

function parseRoute(source: string, value: unknown, problems: string[]): SourceRoute | undefined {
  const at = `FIREHOSE_ROUTES[${quote(source)}]`;
  if (!SOURCE_NAME.test(source)) {
    problems.push(`${at}: a source name has only letters, digits, ".", "_" and "-"`);
    return undefined;
  }
  if (!isJsonObject(value)) {
    problems.push(`${at} must be an object such as {"streams": ["name"]}`);
    return undefined;
  }
  const before = problems.length;
  for (const field of Object.keys(value)) {
    if (!(FIELDS as readonly string[]).includes(field))
      problems.push(`${at} has unknown field ${quote(field)} (fields: ${FIELDS.join(', ')})`);
  }
  const streams = names(value['streams'], `${at}.streams`, STREAM_NAME, 'stream name', problems);
  const route: SourceRoute = { streams: streams ?? [] };
  const { region, queues, jurisdiction, archive } = value;
  if (region !== undefined) {
    if (typeof region === 'string' && REGION.test(region)) route.region = region;
    else problems.push(`${at}.region must be an AWS region such as "eu-west-1"`);
  }
  if (queues !== undefined) {
    const list = names(queues, `${at}.queues`, BINDING_NAME, 'binding name', problems);
    for (const q of list ?? [])
      if (RESERVED_QUEUES.has(q))
        problems.push(`${at}.queues names ${q}, which is not an events queue`);
    if (list !== undefined) route.queues = list;
  }
  if (jurisdiction !== undefined) {
    if ((JURISDICTIONS as readonly unknown[]).includes(jurisdiction))
      route.jurisdiction = jurisdiction as Jurisdiction;
    else problems.push(`${at}.jurisdiction must be one of ${JURISDICTIONS.join(', ')}`);
  }
  if (archive !== undefined) {
    if (typeof archive === 'string' && BINDING_NAME.test(archive)) route.archive = archive;
    else problems.push(`${at}.archive must be the name of an R2 binding`);
  }
  return problems.length === before ? route : undefined;
}

/**
 * FIREHOSE_ROUTES as env holds it: unset or empty, no routes; a JSON object (a wrangler.toml
 * table) or its JSON text. The error lists every problem found, each naming where it is.
 */
export function parseRoutes(value: unknown): Result<Routes, string> {
  if (value === undefined || value === null) return ok(NO_ROUTES);
  let table: unknown = value;
  if (typeof value === 'string') {
    if (value.trim() === '') return ok(NO_ROUTES);
    try {
      table = JSON.parse(value);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      return err(`FIREHOSE_ROUTES is not valid JSON: ${why}`);
    }
  }
  if (!isJsonObject(table)) return err('FIREHOSE_ROUTES must be an object of source name to route');
  const problems: string[] = [];
  const bySource = new Map<string, SourceRoute>();
  const claimedQueues = new Set<string>();
  for (const [source, raw] of Object.entries(table)) {
    const route = parseRoute(source, raw, problems);
    if (route === undefined) continue;
    bySource.set(source, route);
    for (const q of route.queues ?? []) claimedQueues.add(q);
  }
  if (problems.length > 0) return err(problems.join('; '));
  return ok({ bySource, claimedQueues });
}
