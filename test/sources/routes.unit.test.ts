import { describe, expect, it } from 'vitest';
import { parseRoutes } from '../../src/sources/routes';

const EU = {
  'eu-web': {
    region: 'eu-west-1',
    streams: ['eu-events-1', 'eu-events-2'],
    queues: ['EVENTS_EU'],
    jurisdiction: 'eu',
    archive: 'ARCHIVE_EU',
  },
};

describe('parseRoutes', () => {
  it('reads a wrangler.toml table and the same JSON text given with --var alike', () => {
    const fromTable = parseRoutes(EU);
    const fromText = parseRoutes(JSON.stringify(EU));
    for (const parsed of [fromTable, fromText]) {
      if (!parsed.ok) throw new Error(parsed.error);
      expect(parsed.value.bySource.get('eu-web')).toEqual(EU['eu-web']);
      expect([...parsed.value.claimedQueues]).toEqual(['EVENTS_EU']);
    }
  });

  it('needs only streams', () => {
    const parsed = parseRoutes('{"big": {"streams": ["a", "b"]}}');
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.value.bySource.get('big')).toEqual({ streams: ['a', 'b'] });
    expect(parsed.value.claimedQueues.size).toBe(0);
  });

  it('has no routes when unset or empty', () => {
    for (const value of [undefined, '', '  ']) {
      const parsed = parseRoutes(value);
      expect(parsed.ok && parsed.value.bySource.size).toBe(0);
    }
  });

  it('names every problem and where it is', () => {
    const parsed = parseRoutes({
      a: { region: 'Europe', streams: [] },
      b: { streams: ['ok'], queues: ['DLQ'], jurisdiction: 'mars', archive: 'no such' },
      c: { streams: ['x', 'x'], colour: 'red' },
      'bad name!': { streams: ['x'] },
    });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    for (const problem of [
      'FIREHOSE_ROUTES["a"].streams must be a non-empty list of stream name',
      'FIREHOSE_ROUTES["a"].region must be an AWS region such as "eu-west-1"',
      'FIREHOSE_ROUTES["b"].queues names DLQ, which is not an events queue',
      'FIREHOSE_ROUTES["b"].jurisdiction must be one of eu, us, fedramp',
      'FIREHOSE_ROUTES["b"].archive must be the name of an R2 binding',
      'FIREHOSE_ROUTES["c"].streams names "x" twice',
      'FIREHOSE_ROUTES["c"] has unknown field "colour"',
      'FIREHOSE_ROUTES["bad name!"]: a source name has only letters',
    ])
      expect(parsed.error).toContain(problem);
  });

  it('refuses text that is not JSON, or JSON that is not an object', () => {
    const bad = parseRoutes("{eu-web: {streams: ['a']}}");
    expect(!bad.ok && bad.error).toMatch(/^FIREHOSE_ROUTES is not valid JSON: /);
    const list = parseRoutes('["a"]');
    expect(!list.ok && list.error).toBe(
      'FIREHOSE_ROUTES must be an object of source name to route',
    );
  });
});
