// Streams and regions per source under wrangler dev, its real local queues and the local
// Firehose endpoint (which checks each signature for the region it names): a busy source's
// events land on both of its streams, once each; a source routed to eu-west-1 with
// FIREHOSE_ROUTES given as JSON text with --var lands only on its own stream, signed for its
// region, its Durable Objects in its jurisdiction's (emulated) namespace.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postSingles, startTestStack, tally, until, type TestStack } from './support';

const BUSY = ['e2e-busy-1', 'e2e-busy-2'];
const EU = 'e2e-eu-events';
const ROUTES = { 'eu-web': { region: 'eu-west-1', streams: [EU], jurisdiction: 'eu' } };

/** Every event the endpoint wrote for `stream`, read from its data directory. */
async function landedOn(stack: TestStack, stream: string): Promise<Array<Record<string, unknown>>> {
  const walk = async (dir: string): Promise<string[]> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return [];
    }
    const files = await Promise.all(
      entries.map((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : Promise.resolve([join(dir, e.name)]),
      ),
    );
    return files.flat().filter((f) => f.endsWith('.ndjson'));
  };
  const out: Array<Record<string, unknown>> = [];
  for (const file of await walk(join(stack.dataDir, stream)))
    for (const line of (await readFile(file, 'utf8')).split('\n'))
      if (line !== '') out.push(JSON.parse(line) as Record<string, unknown>);
  return out;
}

describe('streams and regions per source', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      stream: BUSY.join(','),
      writeKeys: 'e2e-key-busy=busy-site,e2e-key-eu=eu-web',
      firehoseRegions: ['eu-west-1'],
      vars: { FIREHOSE_ROUTES: JSON.stringify(ROUTES) },
    });
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('lands a busy source on both its streams and a routed source only on its own, signed for its region', async () => {
    const busyIds = Array.from({ length: 600 }, (_v, i) => `busy-${i}`);
    const euIds = Array.from({ length: 100 }, (_v, i) => `eu-${i}`);
    const track = (messageId: string) => ({
      type: 'track',
      event: 'Viewed',
      anonymousId: 'a',
      messageId,
    });
    await Promise.all([
      postSingles(stack, busyIds.map(track), 8, 'e2e-key-busy'),
      postSingles(stack, euIds.map(track), 4, 'e2e-key-eu'),
    ]);
    const all = await until(
      'every event landed',
      async () => {
        const [a, b, eu] = await Promise.all([...BUSY, EU].map((s) => landedOn(stack, s)));
        const busy = tally([...(a ?? []), ...(b ?? [])], busyIds);
        const routed = tally(eu ?? [], euIds);
        return busy.missing.length === 0 && routed.missing.length === 0
          ? { a: a ?? [], b: b ?? [], eu: eu ?? [], busy, routed }
          : undefined;
      },
      120_000,
    );
    const stats = stack.firehose.stats();
    console.log(
      `routes e2e: busy ${busyIds.length} → ${BUSY[0]}=${all.a.length} ${BUSY[1]}=${all.b.length} ` +
        `(duplicates ${all.busy.duplicates}); eu-web ${euIds.length} → ${EU}=${all.eu.length} ` +
        `(duplicates ${all.routed.duplicates}), regions ${JSON.stringify(stats.streams[EU]?.regions)}`,
    );
    expect(all.busy.duplicates).toBe(0);
    expect(all.routed.duplicates).toBe(0);
    expect(all.a.length).toBeGreaterThan(0);
    expect(all.b.length).toBeGreaterThan(0);
    // The routed source's events only on its stream; none of the busy source's there.
    expect([...all.a, ...all.b].some((e) => e['source'] === 'eu-web')).toBe(false);
    expect(all.eu.every((e) => e['source'] === 'eu-web')).toBe(true);
    expect(Object.keys(stats.streams[EU]?.regions ?? {})).toEqual(['eu-west-1']);
    for (const s of BUSY)
      expect(Object.keys(stats.streams[s]?.regions ?? {})).toEqual(['us-east-1']);
  });
});
