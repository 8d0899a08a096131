import { describe, expect, it } from 'vitest';
import {
  basicAuthWriteKey,
  buildKeyTable,
  findSource,
  parseWriteKeySpec,
} from '../../src/segment/write-keys';

const sha256 = async (text: string): Promise<Uint8Array> =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
const equal = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

describe('parseWriteKeySpec', () => {
  it('reads keys with and without source names, ignoring blanks and spaces', () => {
    expect(parseWriteKeySpec(' k1=web , k2,, =orphan ')).toEqual([
      { key: 'k1', source: 'web' },
      { key: 'k2' },
    ]);
  });

  it('keeps base64 padding in a key: the source name follows the last =', () => {
    expect(parseWriteKeySpec('YWJjZA==,YWJjZA==web,YWI=,YWI==ios.app_1,a=b=web')).toEqual([
      { key: 'YWJjZA==' },
      { key: 'YWJjZA=', source: 'web' },
      { key: 'YWI=' },
      { key: 'YWI=', source: 'ios.app_1' },
      { key: 'a=b', source: 'web' },
    ]);
  });
});

describe('buildKeyTable', () => {
  it('names an unnamed source src_ + the first 12 hex digits of the key SHA-256', async () => {
    // FIPS 180-2 test vector: SHA-256("abc") = ba7816bf8f01cfea4141…
    const table = await buildKeyTable('abc,named=web', sha256);
    expect(table.entries.map((e) => e.source)).toEqual(['src_ba7816bf8f01', 'web']);
  });
});

describe('findSource', () => {
  it('finds the source of a configured key and nothing for others', async () => {
    const table = await buildKeyTable('k1=web,k2=ios', sha256);
    expect(await findSource(table, 'k2', sha256, equal)).toBe('ios');
    expect(await findSource(table, 'k3', sha256, equal)).toBeUndefined();
    expect(await findSource(table, '', sha256, equal)).toBeUndefined();
  });
});

describe('basicAuthWriteKey', () => {
  const cases: Array<[string, string | null, { ok: boolean; value?: string; reason?: string }]> = [
    ['no header', null, { ok: true, value: undefined }],
    ['analytics-node style', `Basic ${btoa('wk:')}`, { ok: true, value: 'wk' }],
    ['a password too', `Basic ${btoa('wk:secret')}`, { ok: true, value: 'wk' }],
    ['no colon', `basic ${btoa('wk')}`, { ok: true, value: 'wk' }],
    ['a Bearer token', 'Bearer abc', { ok: false, reason: 'invalid_authorization' }],
    ['bad base64', 'Basic !!!', { ok: false, reason: 'invalid_authorization' }],
    ['a broken base64 length', 'Basic abcde', { ok: false, reason: 'invalid_authorization' }],
    ['an empty user', `Basic ${btoa(':x')}`, { ok: false, reason: 'missing_write_key' }],
    [
      'an oversized header',
      `Basic ${'A'.repeat(2000)}`,
      { ok: false, reason: 'invalid_authorization' },
    ],
  ];
  it.each(cases)('handles %s', (_n, header, expected) => {
    const r = basicAuthWriteKey(header);
    expect(r.ok).toBe(expected.ok);
    if (r.ok) expect(r.value).toBe(expected.value);
    else expect(r.error.reason).toBe(expected.reason);
  });
});
