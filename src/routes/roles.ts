// Who may do what on the operator routes: the one role check every operator route calls
// (`authorize`, or the `requireRole` middleware). Two secrets, two roles:
//
//   ADMIN_TOKEN     role `admin`: everything (plans, replay, the archive, the audit trail, and
//                   all a viewer may do)
//   DEBUGGER_TOKEN  role `viewer`: the debugger's page and API, and the status page and its
//                   data; every other operator route answers it 403 `forbidden`
//
// A route names the role it needs; `admin` satisfies `viewer`. Tokens are compared as SHA-256
// digests in constant time (src/routes/bearer.ts). The role granted is kept on the request
// (`c.get('role')`) for the audit trail.

import type { Context, MiddlewareHandler } from 'hono';
import type { Env } from '../env';
import { ingestError } from '../segment/errors';
import { bearerMatches } from './bearer';
import type { AppEnv } from './deps';
import { IngestHttpError } from './error-response';

export type { Role } from '../audit/role';
import type { Role } from '../audit/role';

const set = (value: string | undefined): value is string => value !== undefined && value !== '';

/** Whether a role may do what `needed` allows. */
export function satisfies(granted: Role, needed: Role): boolean {
  return granted === 'admin' || needed === 'viewer';
}

/** The secrets that grant `needed` (or more), as [role, secret]: ADMIN_TOKEN first. */
export function secretsFor(env: Env, needed: Role): Array<[Role, string]> {
  const out: Array<[Role, string]> = [];
  if (set(env.ADMIN_TOKEN)) out.push(['admin', env.ADMIN_TOKEN]);
  if (needed === 'viewer' && set(env.DEBUGGER_TOKEN)) out.push(['viewer', env.DEBUGGER_TOKEN]);
  return out;
}

/** The role the Authorization header's Bearer token grants; undefined for none. */
export async function presentedRole(
  env: Env,
  header: string | undefined,
): Promise<Role | undefined> {
  // Both checked, whatever the first says: the time taken does not tell which token matched.
  const [admin, viewer] = await Promise.all([
    set(env.ADMIN_TOKEN) ? bearerMatches(env.ADMIN_TOKEN, header) : false,
    set(env.DEBUGGER_TOKEN) ? bearerMatches(env.DEBUGGER_TOKEN, header) : false,
  ]);
  return admin ? 'admin' : viewer ? 'viewer' : undefined;
}

function names(needed: Role): string {
  return needed === 'admin' ? 'ADMIN_TOKEN' : 'ADMIN_TOKEN or DEBUGGER_TOKEN';
}

/**
 * The role of the request's token, when it satisfies `needed`; else throws 401 (no token, a
 * wrong one, or the route disabled because no secret for it is set) or 403 (a valid token of a
 * role that may not do this).
 */
export async function authorize(c: Context<AppEnv>, needed: Role): Promise<Role> {
  const known = c.get('role');
  if (known !== undefined && satisfies(known, needed)) return known;
  if (secretsFor(c.env, needed).length === 0) {
    throw new IngestHttpError(
      ingestError('unauthorized', `this endpoint is disabled until ${names(needed)} is set`),
    );
  }
  const role = await presentedRole(c.env, c.req.header('authorization'));
  if (role === undefined) {
    throw new IngestHttpError(
      ingestError('unauthorized', `a valid Authorization: Bearer ${names(needed)} is required`),
    );
  }
  if (!satisfies(role, needed)) {
    throw new IngestHttpError(
      ingestError(
        'forbidden',
        'DEBUGGER_TOKEN opens the debugger and the status page only; this needs ADMIN_TOKEN',
      ),
    );
  }
  c.set('role', role);
  return role;
}

/** The same check as middleware, for routes mounted with it (the status page). */
export function requireRole(needed: Role): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await authorize(c, needed);
    await next();
  };
}
