import { describe, expect, it } from 'vitest';
import {
  hash64,
  hash64Hex,
  hashInput,
  hmac,
  hmacHex,
  hmacKey,
  parseHash64Hex,
  suppressionHash,
  suppressionInput,
} from '../../src/privacy/hash';
import { HMAC_VECTORS, TEST_HASH_KEY } from './vectors';

describe('hmacHex (Web Crypto in workerd)', () => {
  it('matches RFC 4231 test case 2 (key "Jefe")', async () => {
    const key = await hmacKey('Jefe');
    expect(await hmacHex(key, 'what do ya want for nothing?')).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it.each(Object.entries(HMAC_VECTORS))(
    'matches node:crypto createHmac for %j',
    async (text, expected) => {
      expect(await hmacHex(await hmacKey(TEST_HASH_KEY), text)).toBe(expected);
    },
  );

  it('imports the key again when the secret changes', async () => {
    const a = await hmacKey('one');
    expect(await hmacKey('one')).toBe(a);
    expect(await hmacKey('two')).not.toBe(a);
  });
});

describe('hashInput', () => {
  it('hashes a string as its text and anything else as its JSON', () => {
    expect(hashInput('ada@example.com')).toBe('ada@example.com');
    expect(hashInput(42)).toBe('42');
    expect(hashInput({ a: 1 })).toBe('{"a":1}');
    expect(hashInput(null)).toBe('null');
  });
});

describe('suppression hashes', () => {
  it('are the first 64 bits of the HMAC of kind:id', async () => {
    const key = await hmacKey(TEST_HASH_KEY);
    const h = await suppressionHash(key, 'userId', 'u-42');
    expect(suppressionInput('userId', 'u-42')).toBe('userId:u-42');
    expect(hash64Hex(h)).toBe((HMAC_VECTORS['userId:u-42'] as string).slice(0, 16));
    expect(hash64(await hmac(key, 'userId:u-42'))).toEqual(h);
  });

  it('tell a userId from the same anonymousId', async () => {
    const key = await hmacKey(TEST_HASH_KEY);
    const u = await suppressionHash(key, 'userId', 'x');
    const a = await suppressionHash(key, 'anonymousId', 'x');
    expect(hash64Hex(u)).not.toBe(hash64Hex(a));
  });

  it('read back from their 16 hex digits, and refuse anything else', () => {
    expect(parseHash64Hex('ffffffff00000001')).toEqual({ hi: 0xffffffff, lo: 1 });
    expect(hash64Hex({ hi: 0xffffffff, lo: 1 })).toBe('ffffffff00000001');
    expect(parseHash64Hex('FFFFFFFF00000001')).toBeUndefined();
    expect(parseHash64Hex('abc')).toBeUndefined();
  });
});
