import { describe, expect, it } from 'vitest';
import { anonymizeIp } from '../../src/segment/ip';

describe('anonymizeIp', () => {
  const cases: Array<[string, string | undefined]> = [
    ['203.0.113.77', '203.0.113.0'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.0'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', '2001:db8:85a3::'],
    ['2001:db8::1', '2001:db8::'],
    ['::1', '::'],
    ['::ffff:192.0.2.128', '::'],
    ['64:ff9b:1:2::192.0.2.33', '64:ff9b:1::'],
    ['2001:DB8:AAAA:1::', '2001:db8:aaaa::'],
    ['2001:0:db8:1:2:3:4:5', '2001:0:db8::'],
    ['256.1.1.1', undefined],
    ['1.2.3', undefined],
    ['not-an-ip', undefined],
    ['1:2:3:4:5:6:7:8:9', undefined],
    ['1::2::3', undefined],
    ['12345::1', undefined],
    ['::ffff:999.0.0.1', undefined],
  ];
  it.each(cases)('masks %s as %s', (input, expected) => {
    expect(anonymizeIp(input)).toBe(expected);
  });
});
