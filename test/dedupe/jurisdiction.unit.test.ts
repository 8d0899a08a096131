import { describe, expect, it } from 'vitest';
import { mergeAnswers, splitByJurisdiction } from '../../src/dedupe/jurisdiction';
import type { ShardRequest } from '../../src/dedupe/ledger';

const keys = (...k: number[]): Uint32Array => Uint32Array.from(k);
const at = (source: string, ...k: number[]) => ({
  source,
  keys: keys(...k),
  token: 't',
  attempt: 'a',
});

describe('dedupe requests split by jurisdiction', () => {
  const request: ShardRequest = {
    commit: [
      { source: 'eu-web', keys: keys(1) },
      { source: 'web', keys: keys(2) },
    ],
    copied: [{ source: 'eu-web', keys: keys(3) }],
    release: [at('web', 4)],
    // A key is two words, [hi, lo]: `web` reserves one key, the second `eu-web` entry two.
    reserve: [
      at('web', 5, 50),
      at('eu-web', 7, 70),
      at('ios', 8, 80),
      at('eu-web', 9, 90, 10, 100),
    ],
  };
  const jurisdictionOf = (source: string) => (source === 'eu-web' ? ('eu' as const) : undefined);

  it("sends each source's entries only to its jurisdiction's part", () => {
    const parts = splitByJurisdiction(request, jurisdictionOf);
    const eu = parts.find((p) => p.jurisdiction === 'eu');
    const plain = parts.find((p) => p.jurisdiction === undefined);
    expect(parts).toHaveLength(2);
    const sources = (p: typeof eu) =>
      [
        ...(p?.request.commit ?? []),
        ...(p?.request.copied ?? []),
        ...(p?.request.release ?? []),
        ...(p?.request.reserve ?? []),
      ].map((e) => e.source);
    expect(new Set(sources(eu))).toEqual(new Set(['eu-web']));
    expect(new Set(sources(plain))).toEqual(new Set(['web', 'ios']));
    expect(eu?.reserved).toEqual([1, 3]);
    expect(plain?.reserved).toEqual([0, 2]);
  });

  it("puts the parts' verdicts back in request order", () => {
    const parts = splitByJurisdiction(request, jurisdictionOf);
    // One verdict per key (not per word): each is the key's hi word, so the order reads back.
    const answers = parts.map((p) => ({
      verdicts: Uint8Array.from(
        p.request.reserve.flatMap((r) => [...r.keys].filter((_w, i) => i % 2 === 0)),
      ),
      keys: 10,
      droppedEarly: 1,
    }));
    const merged = mergeAnswers(request, parts, answers);
    expect([...merged.verdicts]).toEqual([5, 7, 8, 9, 10]);
    expect(merged.keys).toBe(20);
    expect(merged.droppedEarly).toBe(2);
  });
});
