// Operator endpoints for privacy, behind ADMIN_TOKEN: PUT, GET and DELETE /admin/privacy/:source
// and GET /admin/privacy (every source's policy version); POST /admin/suppressions, POST
// /admin/suppressions/remove and GET /admin/suppressions (counts only). Adapter: the policy rules
// are in src/privacy/policy.ts, the one writer is src/privacy/registry.ts.
//
// Ids sent to the suppression routes are hashed here (HMAC with PRIVACY_HASH_KEY) and only the
// hashes go further: the registry, KV, logs, the audit trail and the answers never hold an id.
// Each change is recorded in the audit trail (src/routes/audit.ts): its action, source, role and
// counts or version, never an id or a policy's values.

import type { Context } from 'hono';
import type { Env } from '../env';
import { makeVersion } from '../plans/layout';
import { registryStub } from '../privacy/cache';
import { hash64Hex, hmacKey, suppressionHash, type IdKind } from '../privacy/hash';
import { EVERY_SOURCE } from '../privacy/layout';
import {
  POLICY_MAX_BYTES,
  SUPPRESSION_ID_MAX_CHARS,
  SUPPRESSION_MAX_IDS_PER_CALL,
} from '../privacy/limits';
import { parsePolicy } from '../privacy/policy';
import { ingestError } from '../segment/errors';
import { isJsonObject } from '../segment/types';
import { SOURCE_NAME } from '../segment/write-keys';
import { audit } from './audit';
import { parseJson, readBody } from './body';
import type { AppDeps, AppEnv } from './deps';
import { IngestHttpError, unwrap } from './error-response';
import { authorize } from './roles';

type Ctx = Context<AppEnv>;

// Ours: a suppression call's body: 5,000 ids of up to 1,024 characters, JSON-quoted.
const SUPPRESSION_BODY_MAX_BYTES = SUPPRESSION_MAX_IDS_PER_CALL * (SUPPRESSION_ID_MAX_CHARS + 8);

async function authorised(c: Ctx): Promise<void> {
  await authorize(c, 'admin');
}

function badField(field: string, message: string): IngestHttpError {
  return new IngestHttpError(ingestError('invalid_field', message, field));
}

/** A source name as WRITE_KEYS names them; "*" (every source) where `every` allows it. */
function sourceName(value: unknown, field: string, every: boolean): string {
  if (typeof value === 'string' && (SOURCE_NAME.test(value) || (every && value === EVERY_SOURCE)))
    return value;
  throw badField(
    field,
    `a source name is letters, digits, ".", "_" and "-"${every ? ', or "*" for every source' : ''}`,
  );
}

/** The registry, or a 404 when privacy is off (PRIVACY or PRIVACY_REGISTRY not bound). */
function registry(env: Env) {
  if (env.PRIVACY === undefined || env.PRIVACY_REGISTRY === undefined) {
    throw new IngestHttpError(
      ingestError('not_found', 'privacy is off: PRIVACY and PRIVACY_REGISTRY are not bound'),
    );
  }
  return registryStub(env);
}

/** Runs a change at the registry; a refusal (KV or the object unreachable) is a 503. */
async function changing<T>(what: string, change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (e) {
    console.error(`privacy ${what} failed`, e instanceof Error ? e.message : String(e));
    throw new IngestHttpError(
      ingestError('privacy_unavailable', `the privacy registry refused the ${what}; retry later`),
    );
  }
}

function noPolicy(source: string): IngestHttpError {
  return new IngestHttpError(ingestError('not_found', `source ${source} has no privacy policy`));
}

/** PUT: checks the policy (400 naming the field), saves it under a new version. */
export async function putPrivacyPolicy(c: Ctx, deps: AppDeps): Promise<Response> {
  await authorised(c);
  const source = sourceName(c.req.param('source'), 'source', false);
  const stub = registry(c.env);
  const body = unwrap(await readBody(c.req.raw, POLICY_MAX_BYTES));
  const keySet = (c.env.PRIVACY_HASH_KEY ?? '') !== '';
  const parsed = unwrap(parsePolicy(unwrap(parseJson(body.text)), keySet));
  const version = makeVersion(deps.now(), deps.newId());
  await changing('save', () => stub.putPolicy(source, version, JSON.stringify(parsed.document)));
  deps.privacy.invalidate();
  await audit(c, deps, 'privacy_policy.put', source, { version, bytes: body.bytes });
  return c.json({ success: true, source, version });
}

export async function getPrivacyPolicy(c: Ctx): Promise<Response> {
  await authorised(c);
  const source = sourceName(c.req.param('source'), 'source', false);
  const stored = await registry(c.env).getPolicy(source);
  if (stored === undefined) throw noPolicy(source);
  const policy: unknown = JSON.parse(stored.document);
  return c.json({ success: true, source, version: stored.version, policy });
}

export async function deletePrivacyPolicy(c: Ctx, deps: AppDeps): Promise<Response> {
  await authorised(c);
  const source = sourceName(c.req.param('source'), 'source', false);
  const stub = registry(c.env);
  const version = await changing('delete', () => stub.deletePolicy(source));
  if (version === undefined) throw noPolicy(source);
  deps.privacy.invalidate();
  await audit(c, deps, 'privacy_policy.delete', source, { version });
  return c.json({ success: true, source, deleted: version });
}

export async function listPrivacyPolicies(c: Ctx): Promise<Response> {
  await authorised(c);
  const index = await registry(c.env).index();
  return c.json({
    success: true,
    policies: Object.fromEntries(Object.entries(index.policies).sort()),
  });
}

/** The `userIds` or `anonymousIds` list of a suppression call: non-empty strings. */
function idList(body: Record<string, unknown>, field: 'userIds' | 'anonymousIds'): string[] {
  const value = body[field];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw badField(`.${field}`, `${field} must be an array of strings`);
  const bad = value.findIndex(
    (v) => typeof v !== 'string' || v === '' || v.length > SUPPRESSION_ID_MAX_CHARS,
  );
  if (bad !== -1) {
    throw badField(
      `.${field}[${bad}]`,
      `an id is a non-empty string of at most ${SUPPRESSION_ID_MAX_CHARS} characters`,
    );
  }
  return value as string[];
}

async function changeSuppressions(c: Ctx, deps: AppDeps, op: 'add' | 'remove') {
  await authorised(c);
  const stub = registry(c.env);
  const body = unwrap(
    parseJson(unwrap(await readBody(c.req.raw, SUPPRESSION_BODY_MAX_BYTES)).text),
  );
  if (!isJsonObject(body))
    throw new IngestHttpError(ingestError('invalid_body', 'the body must be a JSON object'));
  const source = sourceName(body['source'], '.source', true);
  const ids: Array<[IdKind, string]> = [
    ...idList(body, 'userIds').map((id): [IdKind, string] => ['userId', id]),
    ...idList(body, 'anonymousIds').map((id): [IdKind, string] => ['anonymousId', id]),
  ];
  if (ids.length === 0) throw badField('.userIds', 'name at least one userId or anonymousId');
  if (ids.length > SUPPRESSION_MAX_IDS_PER_CALL) {
    throw badField(
      '.userIds',
      `at most ${SUPPRESSION_MAX_IDS_PER_CALL} ids a call (userIds and anonymousIds together)`,
    );
  }
  const secret = c.env.PRIVACY_HASH_KEY ?? '';
  if (secret === '') {
    throw new IngestHttpError(
      ingestError(
        'privacy_unavailable',
        'suppressions need the secret PRIVACY_HASH_KEY: ids are kept only as keyed hashes',
      ),
    );
  }
  const key = await hmacKey(secret);
  const entries = await Promise.all(
    ids.map(async ([kind, id]) => ({
      kind,
      hash: hash64Hex(await suppressionHash(key, kind, id)),
    })),
  );
  const version = makeVersion(deps.now(), deps.newId());
  const result = await changing(op === 'add' ? 'suppression' : 'removal', () =>
    stub.changeSuppressions(source, op, entries, version),
  );
  deps.privacy.invalidate();
  const action = op === 'add' ? 'suppressions.add' : 'suppressions.remove';
  await audit(c, deps, action, source, { ids: ids.length, changed: result.changed });
  return c.json({
    success: true,
    source,
    [op === 'add' ? 'added' : 'removed']: result.changed,
    suppressed: result.counts,
  });
}

/** POST /admin/suppressions: the users' events are answered 200 and never queued from now on. */
export function postSuppressions(c: Ctx, deps: AppDeps): Promise<Response> {
  return changeSuppressions(c, deps, 'add');
}

/** POST /admin/suppressions/remove: the users' events are delivered again. */
export function removeSuppressions(c: Ctx, deps: AppDeps): Promise<Response> {
  return changeSuppressions(c, deps, 'remove');
}

/** GET /admin/suppressions[?source=web]: counts per source and kind, never an id. */
export async function getSuppressions(c: Ctx): Promise<Response> {
  await authorised(c);
  const query = c.req.query('source');
  const source = query === undefined ? undefined : sourceName(query, 'source', true);
  const counts = await registry(c.env).counts(source);
  if (source !== undefined) counts[source] ??= { userIds: 0, anonymousIds: 0 };
  return c.json({ success: true, suppressions: counts });
}
