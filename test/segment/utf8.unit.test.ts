import { describe, expect, it } from 'vitest';
import { utf8Length } from '../../src/segment/utf8';

describe('utf8Length', () => {
  const samples = [
    '',
    'ascii',
    'é',
    'Melbourne – 墨尔本',
    '😀 emoji',
    '\ud800 lone high',
    'lone low \udc00',
    'x\ud83d',
  ];
  it.each(samples)('matches TextEncoder for %j', (s) => {
    expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
  });
});
