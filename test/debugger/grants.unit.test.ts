// Debugger socket grants: a fingerprint of the token that opened a socket, and whether it is
// still valid by the object's own secrets and the Worker's last report.
import { describe, expect, it } from 'vitest';
import { grantOf, grantsOf, grantValid, type GrantView } from '../../src/debugger/grants';
import { DEBUGGER_GRANT_REPORT_SECONDS } from '../../src/debugger/limits';

const sha256 = async (text: string): Promise<Uint8Array> =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));

const T = 1_800_000_000_000;

describe('grantOf', () => {
  it('is a short fixed-length fingerprint that never holds the token', async () => {
    const g = await grantOf('a-long-random-admin-token', sha256);
    expect(g).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(g).not.toContain('admin');
    expect(await grantOf('a-long-random-admin-token', sha256)).toBe(g);
    expect(await grantOf('another-token', sha256)).not.toBe(g);
  });

  it('gives grants for the tokens that are set only', async () => {
    expect(await grantsOf(['a', undefined, ''], sha256)).toEqual([await grantOf('a', sha256)]);
  });
});

describe('grantValid', () => {
  const view = (own: string[], reported?: string[], at = T): GrantView => ({
    own: new Set(own),
    ...(reported === undefined ? {} : { reported: { grants: new Set(reported), at } }),
  });

  it('needs the object’s own secrets to hold the grant', () => {
    expect(grantValid('g1', view(['g1']), T)).toBe(true);
    expect(grantValid('g1', view(['g2']), T)).toBe(false);
    expect(grantValid(undefined, view(['g1']), T)).toBe(false);
  });

  it('needs a recent report from the Worker to hold it too, and forgets an old report', () => {
    expect(grantValid('g1', view(['g1'], ['g1', 'g2']), T)).toBe(true);
    expect(grantValid('g1', view(['g1'], ['g2']), T + 1000)).toBe(false);
    const later = T + (DEBUGGER_GRANT_REPORT_SECONDS + 1) * 1000;
    expect(grantValid('g1', view(['g1'], ['g2']), later)).toBe(true);
  });
});
