import { describe, expect, it } from 'vitest';
import {
  expiredKeys,
  parseRetentionState,
  RETENTION_STATE_KEY,
  retentionCutoff,
  retentionDays,
} from '../../src/privacy/retention';

const NOW = Date.parse('2026-12-31T00:00:00.000Z');
const DAY = 86_400_000;

describe('retentionDays', () => {
  it.each([
    [undefined, 30],
    ['', 30],
    ['7', 7],
    ['0', 0],
    ['-1', 30],
    ['1.5', 30],
    ['soon', 30],
  ])('reads %j as %d', (value, days) => {
    expect(retentionDays(value)).toBe(days);
  });
});

describe('expiredKeys', () => {
  it('picks objects uploaded before the cutoff, in every prefix, never its own state or the audit trail', () => {
    const cutoff = retentionCutoff(NOW, 30);
    const at = (days: number): Date => new Date(NOW - days * DAY);
    const objects = [
      { key: 'audit/2026/10/01/x.ndjson', uploaded: at(91) },
      { key: 'blocked/web/2026/11/30/a.ndjson', uploaded: at(31) },
      { key: 'dead-letters/2026/12/01/b.ndjson', uploaded: at(30) },
      { key: 'forward-dead-letters/2026/11/01/c.ndjson', uploaded: at(60) },
      { key: 'replayed/2026/11/01/d.ndjson', uploaded: at(29) },
      { key: RETENTION_STATE_KEY, uploaded: at(400) },
    ];
    expect(expiredKeys(objects, cutoff)).toEqual([
      'blocked/web/2026/11/30/a.ndjson',
      'forward-dead-letters/2026/11/01/c.ndjson',
    ]);
  });
});

describe('parseRetentionState', () => {
  it('reads the last key, and anything else as a fresh start', () => {
    expect(parseRetentionState('{"after":"replayed/x"}')).toEqual({ after: 'replayed/x' });
    expect(parseRetentionState('{}')).toEqual({});
    expect(parseRetentionState('nope')).toEqual({});
    expect(parseRetentionState(undefined)).toEqual({});
  });
});
