import { describe, expect, it } from 'vitest';
import { blockedLines, encodeDeadLetter, undecodableLine } from '../../src/archive/format';
import { parseArchive } from '../../src/archive/parse';
import { decodeMessage } from '../../src/queue/message';
import { packMessages } from '../../src/queue/pack';

const AT = Date.parse('2026-11-29T10:00:00.000Z');

function decoded(): NonNullable<ReturnType<typeof decodeMessage>> {
  const [m] = packMessages(
    [
      { line: '{"messageId":"a"}', messageId: 'a' },
      { line: '{"messageId":"b"}', messageId: 'b', blocked: 'violation' },
      { line: '{"messageId":"c"}', messageId: 'c' },
    ],
    { source: 'web', receivedAt: AT },
  );
  const d = decodeMessage(m?.body);
  if (d === undefined) throw new Error('pack');
  return d;
}

describe('encodeDeadLetter', () => {
  it('carries the blocked lines not yet archived, still marked, after the lines to deliver', () => {
    const letter = encodeDeadLetter(decoded(), { reason: 'X', attempts: 21, at: AT }, 'tok');
    const back = decodeMessage(letter);
    expect(back?.header).toMatchObject({ events: 2, ids: ['a', 'c'], token: 'tok' });
    expect(back?.header.deadLetter).toEqual({ reason: 'X', attempts: 21, at: AT });
    expect(back?.blocked).toEqual({
      lines: ['{"messageId":"b"}'],
      ids: ['b'],
      reasons: ['violation'],
    });
  });

  it('keeps only the lines left to deliver when deduplication dropped some', () => {
    const letter = encodeDeadLetter(decoded(), { reason: 'X', attempts: 2, at: AT }, 'tok', {
      lines: ['{"messageId":"c"}'],
      ids: ['c'],
    });
    const back = decodeMessage(letter);
    expect([back?.header.ids, back?.blocked?.ids]).toEqual([['c'], ['b']]);
  });

  it('carries none once they are archived', () => {
    const d = decoded();
    delete d.blocked;
    const back = decodeMessage(encodeDeadLetter(d, { reason: 'X', attempts: 2, at: AT }, 't'));
    expect([back?.header.ids, back?.blocked]).toEqual([['a', 'c'], undefined]);
  });
});

describe('blockedLines', () => {
  it('writes one archive line per blocked event kept, blocked when received', () => {
    const text = blockedLines(decoded(), 3, 'q-1');
    expect(
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([
      {
        reason: 'blocked: violation',
        attempts: 0,
        source: 'web',
        receivedAt: '2026-11-29T10:00:00.000Z',
        deadLetteredAt: '2026-11-29T10:00:00.000Z',
        archiveAttempts: 3,
        token: 'q-1',
        event: { messageId: 'b' },
      },
    ]);
    expect(blockedLines(decoded(), 3, 'q-1', [false])).toBe('');
  });
});

describe('parseArchive and a version 2 message an older consumer could not decode', () => {
  it('replays the events of its undecodable line, restored as version 1 carried them', () => {
    const lines = ['v2-a', 'v2-b'].map(
      (id) => `{"type":"track","context":{"ip":"203.0.113.42"},"messageId":"${id}","source":"web"}`,
    );
    const [m] = packMessages(
      lines.map((line, i) => ({ line, messageId: `v2-${'ab'.charAt(i)}` })),
      { source: 'web', receivedAt: AT, facts: ['"ip":"203.0.113.42"', '"source":"web"'] },
    );
    expect(m?.body.startsWith('{"v":2,')).toBe(true);
    // What a consumer of the version before 2 dead-letters, and its archive writer keeps.
    const archived = `${undecodableLine(m?.body, AT)}${undecodableLine('not ours', AT)}`;
    const parsed = parseArchive(archived);
    expect(parsed.skipped).toBe(1);
    expect(parsed.groups).toEqual([
      { source: 'web', receivedAt: AT, events: lines.map((l) => JSON.parse(l) as unknown) },
    ]);
  });
});
