// The audit entry's shape and key: bounded values, newest-first keys, parsing back.
import { describe, expect, it } from 'vitest';
import { auditEntry, auditKey, parseAuditEntry } from '../../src/audit/entry';
import { AUDIT_VALUE_MAX_CHARS } from '../../src/audit/limits';

const T = Date.parse('2026-11-29T10:00:00.000Z');

describe('auditEntry', () => {
  it('records time, action, source, role and what changed', () => {
    const e = auditEntry(
      { action: 'replay', source: 'web', role: 'admin', changed: { events: 3, prefix: 'x/' } },
      T,
      'id1',
    );
    expect(e).toEqual({
      id: 'id1',
      at: '2026-11-29T10:00:00.000Z',
      action: 'replay',
      source: 'web',
      role: 'admin',
      changed: { events: 3, prefix: 'x/' },
    });
  });

  it('cuts long strings and drops values past the limit, so no document fits in an entry', () => {
    const changed = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]));
    const e = auditEntry(
      {
        action: 'tracking_plan.put',
        source: 'web',
        role: 'admin',
        changed: { ...changed, k0: 'x'.repeat(500), k1: Infinity },
      },
      T,
      'id',
    );
    expect(Object.keys(e.changed)).toHaveLength(20);
    expect(String(e.changed['k0'])).toHaveLength(AUDIT_VALUE_MAX_CHARS);
    expect(e.changed['k1']).toBeNull();
    expect(JSON.stringify(e).length).toBeLessThan(2048);
  });
});

describe('auditKey', () => {
  it('sorts a later entry before an earlier one, as R2 lists keys', () => {
    const keys = [T, T + 1, T + 86_400_000, T - 5].map((at, i) =>
      auditKey({ at: new Date(at).toISOString(), id: `i${i}` }),
    );
    expect([...keys].sort()).toEqual([keys[2], keys[1], keys[0], keys[3]]);
    expect(keys[0]).toMatch(/^audit\/\d{13}-i0\.json$/);
  });
});

describe('parseAuditEntry', () => {
  it('reads back what it wrote and refuses what is not an entry', () => {
    const e = auditEntry({ action: 'replay', source: null, role: 'admin', changed: {} }, T, 'a');
    expect(parseAuditEntry(JSON.stringify(e))).toEqual(e);
    for (const bad of [
      undefined,
      '',
      '{',
      'null',
      '{"id":"a"}',
      JSON.stringify({ ...e, role: 'x' }),
    ]) {
      expect(parseAuditEntry(bad)).toBeUndefined();
    }
  });
});
