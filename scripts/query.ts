// `npm run query -- "<SQL>"`: SQL over what `npm start` delivered, with DuckDB. Opens an
// in-memory database with the `events` view (scripts/query/view.ts: the columns of the Athena
// table in docs/querying.md) over .data/firehose/<stream>/YYYY/MM/DD/HH/*.ndjson, runs the SQL
// and prints a table (or one JSON object per row with --json). Adapter: DuckDB and the terminal.
//
//   npm run query -- "SELECT event, count(*) AS n FROM events GROUP BY event ORDER BY n DESC"
//   npm run query -- --stream other --dir /tmp/firehose --json "SELECT * FROM events LIMIT 5"

import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { DEFAULT_STREAM } from './dev/config.ts';
import { eventsViewSql, streamGlob } from './query/view.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface QueryResult {
  columns: string[];
  rows: Array<Record<string, Json>>;
}

// Ours: a cell wider than this is cut in the table (--json prints it whole).
const CELL_MAX_CHARS = 60;

// DuckDB's JSON form writes 64- and 128-bit integers (count(*) is a BIGINT) as text.
const WIDE_INTEGERS = new Set(['BIGINT', 'UBIGINT', 'HUGEINT', 'UHUGEINT']);

/** A wide integer as a number where it is exact in one, else as DuckDB gave it. */
function exactNumber(value: Json): Json {
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) return value;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
}

/** Whether any .ndjson file lies at the depth the endpoint writes (stream/YYYY/MM/DD/HH/). */
function hasFiles(dir: string, depth: number): boolean {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  if (depth === 0) return entries.some((e) => e.isFile() && e.name.endsWith('.ndjson'));
  return entries.some((e) => e.isDirectory() && hasFiles(join(dir, e.name), depth - 1));
}

/** Runs `sql` against the `events` view of `stream`'s files under `dataDir`. */
export async function query(sql: string, dataDir: string, stream: string): Promise<QueryResult> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const glob = hasFiles(join(dataDir, stream), 4) ? streamGlob(dataDir, stream) : undefined;
    await connection.run(eventsViewSql(glob));
    const reader = await connection.runAndReadAll(sql);
    const columns = reader.columnNames();
    const wide = new Set(
      reader
        .columnTypes()
        .flatMap((t, i) => (WIDE_INTEGERS.has(t.toString()) ? [columns[i] ?? ''] : [])),
    );
    const rows = (reader.getRowObjectsJson() as Array<Record<string, Json>>).map((row) => {
      for (const c of wide) row[c] = exactNumber(row[c] ?? null);
      return row;
    });
    return { columns, rows };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

function cell(value: Json | undefined): string {
  const text =
    value === null || value === undefined
      ? ''
      : typeof value === 'string'
        ? value
        : JSON.stringify(value);
  return text.length > CELL_MAX_CHARS ? `${text.slice(0, CELL_MAX_CHARS - 1)}…` : text;
}

/** The result as an aligned text table, with the row count under it. */
export function formatTable(result: QueryResult): string {
  const cells = result.rows.map((row) => result.columns.map((c) => cell(row[c])));
  const widths = result.columns.map((c, i) =>
    Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)),
  );
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const count = `(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`;
  return [line(result.columns), rule, ...cells.map(line), count].join('\n');
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      dir: { type: 'string', default: join('.data', 'firehose') },
      stream: { type: 'string', default: process.env['FIREHOSE_STREAM'] || DEFAULT_STREAM },
      json: { type: 'boolean', default: false },
    },
  });
  const sql = positionals.join(' ').trim();
  if (sql === '') {
    console.error(
      'usage: npm run query -- [--dir .data/firehose] [--stream ndc-segment] [--json] "<SQL over events>"',
    );
    process.exit(2);
  }
  try {
    const result = await query(sql, values.dir, values.stream);
    if (values.json) for (const row of result.rows) console.log(JSON.stringify(row));
    else console.log(formatTable(result));
  } catch (e) {
    console.error(`query failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
