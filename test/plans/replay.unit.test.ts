import { describe, expect, it } from 'vitest';
import { parsePlan, type CompiledPlan } from '../../src/plans/plan';
import { recheckArchive } from '../../src/plans/replay';
import { parseArchive } from '../../src/archive/parse';

const AT = Date.parse('2026-11-29T10:00:00.000Z');

function compiled(plan: unknown): CompiledPlan {
  const r = parsePlan(plan);
  if (!r.ok) throw new Error(r.error.message);
  return r.value.compiled;
}

const line = (messageId: string, total: unknown, token = 'tok'): string =>
  JSON.stringify({
    reason: 'blocked: violation',
    attempts: 0,
    source: 'web',
    receivedAt: '2026-11-29T09:00:00.000Z',
    deadLetteredAt: '2026-11-29T09:00:01.000Z',
    archiveAttempts: 1,
    token,
    event: {
      type: 'page',
      messageId,
      properties: { total },
      context: { violations: [{ type: 'violation', action: 'blocked' }] },
    },
  });

describe('recheckArchive', () => {
  const archive = parseArchive(`${line('p1', 1)}\n${line('p2', 'x')}\n`);
  const plan = compiled({
    page: { properties: { properties: { total: { type: 'number' } } } },
    violations: 'block',
  });

  it('queues what passes without its old annotation, and keeps what fails as archive lines', () => {
    const out = recheckArchive(archive, new Map([['web', plan]]), AT);
    expect(out.deliver).toEqual([
      [{ type: 'page', messageId: 'p1', properties: { total: 1 }, context: {} }],
    ]);
    expect(out.stillEvents).toBe(1);
    expect(JSON.parse(out.still)).toEqual({
      reason: 'blocked: violation',
      attempts: 0,
      source: 'web',
      receivedAt: '2026-11-29T09:00:00.000Z',
      deadLetteredAt: '2026-11-29T10:00:00.000Z',
      archiveAttempts: 0,
      token: 'tok',
      event: {
        type: 'page',
        messageId: 'p2',
        properties: { total: 'x' },
        context: {
          violations: [expect.objectContaining({ path: '/properties/total', action: 'blocked' })],
        },
      },
    });
    // Its line parses back into the same group: a later replay finds it as it was archived.
    expect(parseArchive(out.still).groups[0]?.token).toBe('tok');
  });

  it('queues every event of a source that has no plan any more', () => {
    const out = recheckArchive(archive, new Map([['web', undefined]]), AT);
    expect(out.deliver[0]?.map((e) => e['messageId'])).toEqual(['p1', 'p2']);
    expect(out.stillEvents).toBe(0);
    expect(out.still).toBe('');
  });
});
