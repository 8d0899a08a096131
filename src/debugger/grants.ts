// Which token a debugger WebSocket was opened under, and whether that token is still valid.
// Pure: the digest is injected (crypto.subtle in the Worker and the object).
//
// A socket's grant is a fingerprint of the token whose ticket opened it: the first 16 bytes of
// SHA-256 over a fixed label and the token, base64url (a long random token cannot be recovered
// from it, and the label keeps it from matching any other digest of the token). The object keeps
// it with the socket (serializeAttachment, which survives hibernation) and closes the socket once
// the grant is no longer among the valid ones: those of its own secrets (the deployed version's)
// and, while recent, those the Worker last reported.

import { DEBUGGER_GRANT_REPORT_SECONDS } from './limits';

export type Digest = (text: string) => Promise<Uint8Array>;

const LABEL = 'ndc-segment debugger grant\n';
const GRANT_BYTES = 16;

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** The grant of one token. */
export async function grantOf(token: string, digest: Digest): Promise<string> {
  return base64url((await digest(LABEL + token)).slice(0, GRANT_BYTES));
}

/** The grants of the tokens that are set (ADMIN_TOKEN, DEBUGGER_TOKEN). */
export async function grantsOf(
  tokens: ReadonlyArray<string | undefined>,
  digest: Digest,
): Promise<string[]> {
  const set = tokens.filter((t): t is string => t !== undefined && t !== '');
  return Promise.all(set.map((t) => grantOf(t, digest)));
}

/** What an object knows of the valid grants. */
export interface GrantView {
  /** From the object's own secrets. */
  own: ReadonlySet<string>;
  /** The Worker's last report, and when it came (ms). */
  reported?: { grants: ReadonlySet<string>; at: number };
}

/**
 * Whether a socket opened under `grant` may stay open at `now`: its grant is valid by the
 * object's own secrets and, if the Worker reported within DEBUGGER_GRANT_REPORT_SECONDS, by that
 * report too. A socket without a grant (opened before grants existed) may not.
 */
export function grantValid(grant: string | undefined, view: GrantView, now: number): boolean {
  if (grant === undefined || !view.own.has(grant)) return false;
  const r = view.reported;
  if (r === undefined || now - r.at > DEBUGGER_GRANT_REPORT_SECONDS * 1000) return true;
  return r.grants.has(grant);
}
