import { describe, expect, it } from 'vitest';
import {
  archiveKey,
  blockedArchiveKey,
  blockedSourcePrefix,
  claimKey,
  replayRoute,
  sourceSegment,
} from '../../src/archive/keys';
import { R2_KEY_MAX_BYTES, SOURCE_SEGMENT_MAX_BYTES } from '../../src/archive/limits';

const AT = Date.parse('2026-11-29T10:00:00.000Z');
const bytes = (s: string): number => new TextEncoder().encode(s).length;

/** Every key the archive can make from a blocked object of `source`. */
function keysOf(source: string): string[] {
  const key = blockedArchiveKey(source, AT, crypto.randomUUID());
  return [key, claimKey(key), replayRoute(key, 'f'.repeat(32))?.replayedKey ?? ''];
}

describe('sourceSegment', () => {
  it('keeps a source name as it is, up to the bound', () => {
    expect(sourceSegment('web')).toBe('web');
    const longest = 'a'.repeat(SOURCE_SEGMENT_MAX_BYTES);
    expect(sourceSegment(longest)).toBe(longest);
  });

  it('cuts a longer name and ends it with a hash of the whole, so two long names stay apart', () => {
    const a = sourceSegment(`${'a'.repeat(300)}-one`);
    const b = sourceSegment(`${'a'.repeat(300)}-two`);
    expect(bytes(a)).toBeLessThanOrEqual(SOURCE_SEGMENT_MAX_BYTES);
    expect(a).toMatch(/^a+~[0-9a-f]{16}$/);
    expect(a).not.toBe(b);
    expect(sourceSegment(`${'a'.repeat(300)}-one`)).toBe(a);
  });

  it('never splits a character of a name outside ASCII', () => {
    const segment = sourceSegment('é'.repeat(500));
    expect(bytes(segment)).toBeLessThanOrEqual(SOURCE_SEGMENT_MAX_BYTES);
    expect(segment).toMatch(/^é+~[0-9a-f]{16}$/);
  });
});

describe('the keys of a blocked object', () => {
  it.each([
    ['a short name', 'web'],
    ['a name of 5,000 characters', 's'.repeat(5_000)],
    ['a name of 5,000 three-byte characters', '漢'.repeat(5_000)],
    ['an empty name', ''],
  ])('fit an R2 key for %s, its claim and its replayed copy included', (_n, source) => {
    for (const key of keysOf(source)) expect(bytes(key)).toBeLessThan(R2_KEY_MAX_BYTES);
  });

  it('keep the layout for a plain name, and list under blockedSourcePrefix', () => {
    const key = blockedArchiveKey('web', AT, 'batch1');
    expect(key).toBe('blocked/web/2026/11/29/10/2026-11-29T100000000Z-batch1.ndjson');
    expect(key.startsWith(blockedSourcePrefix('web'))).toBe(true);
    const long = 'x'.repeat(2_000);
    expect(blockedArchiveKey(long, AT, 'b').startsWith(blockedSourcePrefix(long))).toBe(true);
  });
});

describe('archiveKey', () => {
  it('names an object by hour and id, and hashes an id that could not be a key segment', () => {
    expect(archiveKey(AT, 'abc')).toBe(
      'dead-letters/2026/11/29/10/2026-11-29T100000000Z-abc.ndjson',
    );
    const odd = archiveKey(AT, `a/b?${'z'.repeat(500)}`);
    expect(odd).toMatch(
      /^dead-letters\/2026\/11\/29\/10\/2026-11-29T100000000Z-[0-9a-f]{16}\.ndjson$/,
    );
  });
});

describe('replayRoute', () => {
  it('sends dead letters and blocked events to the events queues, forward ones to the forward queue', () => {
    expect(replayRoute('dead-letters/2026/x.ndjson')).toEqual({
      queue: 'events',
      replayedKey: 'replayed/2026/x.ndjson',
    });
    expect(replayRoute('blocked/web/2026/x.ndjson', '0123456789')).toEqual({
      queue: 'events',
      replayedKey: 'replayed/blocked/web/2026/x-01234567.ndjson',
    });
    expect(replayRoute('forward-dead-letters/2026/x.ndjson')).toEqual({
      queue: 'forward',
      replayedKey: 'forward-replayed/2026/x.ndjson',
    });
    expect(replayRoute('replayed/2026/x.ndjson')).toBeUndefined();
  });
});
