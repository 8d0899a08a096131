// WebSocket tickets. A browser cannot set headers on a WebSocket, and the admin token must never
// travel in a URL, so the page first asks for a ticket with an authenticated fetch
// (POST /debugger/watch, Bearer ADMIN_TOKEN) and opens the socket with it: `<expiry>.<mac>`,
// the HMAC-SHA256, keyed by ADMIN_TOKEN, of the source and the expiry. A ticket opens that
// source's socket only, for DEBUGGER_TICKET_SECONDS. Pure: the HMAC and the constant-time
// comparison are injected (crypto.subtle in the Worker).

import { DEBUGGER_TICKET_SECONDS } from './limits';

export type Hmac = (key: string, message: string) => Promise<Uint8Array>;
export type TimingSafeEqual = (a: Uint8Array, b: Uint8Array) => boolean;

const message = (source: string, expiresAt: number): string =>
  `ndc-segment debugger ws\n${source}\n${expiresAt}`;

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

function fromBase64url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** A ticket for `source`, good until `now` + DEBUGGER_TICKET_SECONDS (whole seconds). */
export async function issueTicket(
  secret: string,
  source: string,
  now: number,
  hmac: Hmac,
): Promise<string> {
  const expiresAt = Math.floor(now / 1000) + DEBUGGER_TICKET_SECONDS;
  return `${expiresAt}.${base64url(await hmac(secret, message(source, expiresAt)))}`;
}

/** Whether `ticket` was issued for `source` with `secret` and has not expired at `now`. */
export async function ticketValid(
  secret: string,
  source: string,
  ticket: string,
  now: number,
  hmac: Hmac,
  equal: TimingSafeEqual,
): Promise<boolean> {
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{16,128})$/.exec(ticket);
  if (m === null || m[1] === undefined || m[2] === undefined) return false;
  const expiresAt = Number(m[1]);
  const nowSeconds = Math.floor(now / 1000);
  if (expiresAt < nowSeconds || expiresAt > nowSeconds + DEBUGGER_TICKET_SECONDS) return false;
  const presented = fromBase64url(m[2]);
  // Only the canonical spelling: a last character differing in its unused low bits decodes to
  // the same bytes, and an altered ticket must never open a socket.
  if (presented === undefined || base64url(presented) !== m[2]) return false;
  const expected = await hmac(secret, message(source, expiresAt));
  return presented.byteLength === expected.byteLength && equal(presented, expected);
}
