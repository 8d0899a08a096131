import { describe, expect, it } from 'vitest';
import { ANY, parsePointer } from '../../src/privacy/pointer';

describe('parsePointer', () => {
  it.each([
    ['/properties/email', ['properties', 'email']],
    ['/a~1b/c~0d', ['a/b', 'c~d']],
    ['/a~01', ['a~1']],
    ['/items/*/price', ['items', ANY, 'price']],
    ['/', ['']],
  ])('reads %s', (pointer, expected) => {
    const parsed = parsePointer(pointer);
    expect(parsed.ok ? parsed.segments : parsed.why).toEqual(expected);
  });

  it.each(['', 'properties', '/a~', '/a~x'])('refuses %j', (pointer) => {
    expect(parsePointer(pointer).ok).toBe(false);
  });
});
