// WebSocket tickets: issued for one source by an authenticated fetch, good for a minute.
import { describe, expect, it } from 'vitest';
import { DEBUGGER_TICKET_SECONDS } from '../../src/debugger/limits';
import { issueTicket, ticketValid, type Hmac } from '../../src/debugger/ticket';

const encoder = new TextEncoder();
const hmac: Hmac = async (secret, message) => {
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(message)));
};
const equal = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

const T = 1_800_000_000_000;
const valid = (secret: string, source: string, ticket: string, now = T): Promise<boolean> =>
  ticketValid(secret, source, ticket, now, hmac, equal);

describe('tickets', () => {
  it('opens the source it was issued for, with the token that issued it', async () => {
    const ticket = await issueTicket('admin', 'web', T, hmac);
    expect(ticket).toMatch(/^\d+\.[A-Za-z0-9_-]+$/);
    expect(ticket).not.toContain('admin');
    expect(await valid('admin', 'web', ticket)).toBe(true);
    expect(await valid('admin', 'ios', ticket)).toBe(false);
    expect(await valid('other-token', 'web', ticket)).toBe(false);
  });

  it(`expires after ${DEBUGGER_TICKET_SECONDS} s`, async () => {
    const ticket = await issueTicket('admin', 'web', T, hmac);
    expect(await valid('admin', 'web', ticket, T + DEBUGGER_TICKET_SECONDS * 1000)).toBe(true);
    expect(await valid('admin', 'web', ticket, T + (DEBUGGER_TICKET_SECONDS + 1) * 1000)).toBe(
      false,
    );
  });

  it('refuses a MAC spelled differently that decodes to the same bytes', async () => {
    const ticket = await issueTicket('admin', 'web', T, hmac);
    // 32 bytes are 43 base64url characters: the last carries 4 bits and 2 unused ones.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(ticket.slice(-1));
    const twin = `${ticket.slice(0, -1)}${alphabet[last ^ 1] ?? ''}`;
    expect(twin).not.toBe(ticket);
    expect(await valid('admin', 'web', twin)).toBe(false);
  });

  it('refuses a ticket with its expiry moved or its MAC altered', async () => {
    const ticket = await issueTicket('admin', 'web', T, hmac);
    const [expiry, mac] = ticket.split('.') as [string, string];
    expect(await valid('admin', 'web', `${Number(expiry) + 30}.${mac}`)).toBe(false);
    const flipped = (mac.startsWith('A') ? 'B' : 'A') + mac.slice(1);
    expect(await valid('admin', 'web', `${expiry}.${flipped}`)).toBe(false);
    // Dated too far ahead to have been issued now, even with a valid MAC for it.
    const future = await issueTicket('admin', 'web', T + 3_600_000, hmac);
    expect(await valid('admin', 'web', future)).toBe(false);
  });

  it.each(['', 'garbage', '123', '123.', '.abc', '1.!!!!!!!!!!!!!!!!!!!!'])(
    'refuses the malformed ticket %j',
    async (ticket) => {
      expect(await valid('admin', 'web', ticket)).toBe(false);
    },
  );
});
