// `npm run query`: DuckDB over what the local Firehose endpoint delivered. The `events` view
// declares the columns of docs/querying.md's Athena table; a batch delivered through the real
// endpoint (signed PutRecordBatch, files laid out as in S3) is counted by event name by the CLI;
// the docs' example queries run on it.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTable, query } from '../../scripts/query';
import { EVENT_COLUMNS, PARTITION_COLUMN } from '../../scripts/query/view';
import { createHarness, putRecordBatch, STREAM } from './local-firehose/support';

const CLI = fileURLToPath(new URL('../../scripts/query.ts', import.meta.url));
// Each CLI run starts Node, tsx and DuckDB (~1-3 s on a busy machine): no test is timed on it.
const CLI_TEST_TIMEOUT_MS = 60_000;
const QUERYING = readFileSync(new URL('../../docs/querying.md', import.meta.url), 'utf8');

/** The columns of the CREATE EXTERNAL TABLE in docs/querying.md, the partition column last. */
function athenaColumns(): Array<[string, string]> {
  const ddl = /```sql\n(CREATE EXTERNAL TABLE[\s\S]*?)```/.exec(QUERYING)?.[1] ?? '';
  const body = ddl.slice(ddl.indexOf('(') + 1, ddl.indexOf('\n)'));
  const partition = /PARTITIONED BY \((.*)\)/.exec(ddl)?.[1] ?? '';
  return [...`${body},${partition}`.matchAll(/`(\w+)`\s+(\w+)/g)].map((m) => [
    m[1] ?? '',
    m[2] ?? '',
  ]);
}

// Athena's type of each DuckDB type the view uses: JSON is text in both.
const ATHENA_TYPE: Record<string, string> = { VARCHAR: 'string', JSON: 'string' };

function event(i: number, fields: Record<string, unknown>): Record<string, unknown> {
  return {
    messageId: `m-${i}`,
    source: 'web',
    userId: `u-${i % 2}`,
    receivedAt: '2026-11-29T10:00:00.000Z',
    timestamp: '2026-11-29T10:00:00.000Z',
    context: { ip: '127.0.0.1', library: { name: 'analytics-node', version: '3.1.0' } },
    ...fields,
  };
}

// Two records, as the consumer packs them: several events per record, one per line.
const BATCH = [
  [
    event(1, { type: 'track', event: 'Order Completed', properties: { total: 42 } }),
    event(2, { type: 'track', event: 'Signed Up' }),
    event(3, { type: 'track', event: 'Order Completed', properties: { total: 7 } }),
  ],
  [
    event(4, { type: 'page', name: 'Home' }),
    event(5, { type: 'track', event: 'Order Completed' }),
    event(5, { type: 'track', event: 'Order Completed' }), // a copy of a lost answer's call
    event(6, { type: 'identify', traits: { plan: 'pro' } }),
  ],
].map((events) => Buffer.from(events.map((e) => `${JSON.stringify(e)}\n`).join('')));

/** Runs the CLI as `npm run query` does, and returns its stdout lines. */
function cli(args: string[]): Promise<{ code: number | null; lines: string[]; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, lines: out.split('\n').filter(Boolean), err }));
  });
}

const harness = createHarness();
let dataDir: string;
let emptyDir: string;

beforeAll(async () => {
  const started = await harness.start();
  const answer = await putRecordBatch(started.client, started.firehose.url, BATCH);
  expect(answer.json['FailedPutCount']).toBe(0);
  dataDir = started.dataDir;
  emptyDir = await mkdtemp(join(tmpdir(), 'query-empty-'));
});

afterAll(async () => {
  await harness.cleanup();
  await rm(emptyDir, { recursive: true, force: true });
});

describe('the events view', () => {
  it("declares the Athena table's columns, in its order, with the same types", async () => {
    const athena = athenaColumns();
    expect(athena.length).toBe(EVENT_COLUMNS.length + 1);
    for (const dir of [dataDir, emptyDir]) {
      const described = await query('DESCRIBE events', dir, STREAM);
      const duck = described.rows.map((r) => {
        const [name, type] = [r['column_name'], r['column_type']];
        return [name, (typeof type === 'string' && ATHENA_TYPE[type]) || type];
      });
      expect(duck).toEqual(athena);
    }
    expect(athena.at(-1)).toEqual([PARTITION_COLUMN, 'string']);
  });

  it('reads every delivered line, with its hourly prefix as dt', async () => {
    const { rows } = await query(
      'SELECT count(*) AS n, min(dt) AS dt, count(DISTINCT dt) AS hours FROM events',
      dataDir,
      STREAM,
    );
    expect(rows[0]?.['n']).toBe(7);
    expect(rows[0]?.['hours']).toBe(1);
    expect(rows[0]?.['dt']).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\d{2}$/);
  });

  it('is empty, with the same columns, before anything was delivered', async () => {
    const { rows } = await query('SELECT count(*) AS n FROM events', emptyDir, STREAM);
    expect(rows).toEqual([{ n: 0 }]);
  });
});

describe('npm run query', () => {
  it("counts a delivered batch's events by name", { timeout: CLI_TEST_TIMEOUT_MS }, async () => {
    const sql =
      "SELECT event, count(*) AS n FROM events WHERE type = 'track' GROUP BY event ORDER BY event";
    const { code, lines, err } = await cli(['--dir', dataDir, '--stream', STREAM, '--json', sql]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { event: 'Order Completed', n: 4 },
      { event: 'Signed Up', n: 1 },
    ]);
  });

  it(
    'prints a table, and names the problem of a query that fails',
    { timeout: CLI_TEST_TIMEOUT_MS },
    async () => {
      const [table, bad, none] = await Promise.all([
        cli(['--dir', dataDir, '--stream', STREAM, 'SELECT 1 AS one']),
        cli(['--dir', dataDir, '--stream', STREAM, 'SELECT nope FROM events']),
        cli([]),
      ]);
      expect(table.lines).toEqual(['one', '---', '1', '(1 row)']);
      expect(bad.code).toBe(1);
      expect(bad.err).toContain('query failed: Binder Error');
      expect(none.code).toBe(2);
      expect(none.err).toContain('usage: npm run query');
    },
  );

  it('formats a table aligned, with the row count', () => {
    expect(
      formatTable({
        columns: ['event', 'n'],
        rows: [
          { event: 'Order Completed', n: 4 },
          { event: null, n: 10 },
        ],
      }),
    ).toBe(
      [
        'event            n',
        '---------------  --',
        'Order Completed  4',
        '                 10',
        '(2 rows)',
      ].join('\n'),
    );
  });
});

describe("docs/querying.md's example queries", () => {
  const examples = QUERYING.slice(QUERYING.indexOf('## Example queries'));
  // Athena-only parts: its "$path" pseudo-column and its JSON function (the doc says so).
  const statements = [...examples.matchAll(/```sql\n([\s\S]*?)```/g)]
    .flatMap((m) => (m[1] ?? '').split(';'))
    .map((s) =>
      s
        .replace(/^--.*$/gm, '')
        .replace('"$path" AS object, ', '')
        .trim(),
    )
    .filter((s) => s !== '' && !s.includes('json_extract_scalar'));

  it.each(statements)('runs locally: %s', async (sql) => {
    const { rows } = await query(sql.replaceAll("'2026/11/01/00'", "'0000'"), dataDir, STREAM);
    expect(Array.isArray(rows)).toBe(true);
  });

  it('finds the duplicate and counts each event once', async () => {
    const dupes = statements.find((s) => s.includes('HAVING count(*) > 1')) ?? '';
    const { rows } = await query(dupes.replaceAll("'2026/11/01/00'", "'0000'"), dataDir, STREAM);
    expect(rows.map((r) => [r['source'], r['messageId'], r['copies']])).toEqual([
      ['web', 'm-5', 2],
    ]);
    const once = statements.find((s) => s.includes('events_once')) ?? '';
    expect((await query(once, dataDir, STREAM)).rows).toEqual([{ events_once: 6 }]);
  });
});
