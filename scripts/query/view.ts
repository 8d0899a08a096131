// The `events` view `npm run query` opens over what the local Firehose endpoint delivered: the
// columns of a delivered Segment event, the same as the Athena table of docs/querying.md (a test
// compares the two), with the hourly prefix as `dt`. Pure: column lists and SQL text.

/**
 * The view's columns and DuckDB types, in the Athena table's order. Timestamps stay ISO-8601
 * text, as Athena reads them; `context`, `properties`, `traits` and `integrations` are JSON text.
 */
export const EVENT_COLUMNS = [
  ['type', 'VARCHAR'],
  ['event', 'VARCHAR'],
  ['name', 'VARCHAR'],
  ['category', 'VARCHAR'],
  ['userId', 'VARCHAR'],
  ['anonymousId', 'VARCHAR'],
  ['groupId', 'VARCHAR'],
  ['previousId', 'VARCHAR'],
  ['messageId', 'VARCHAR'],
  ['source', 'VARCHAR'],
  ['timestamp', 'VARCHAR'],
  ['originalTimestamp', 'VARCHAR'],
  ['sentAt', 'VARCHAR'],
  ['receivedAt', 'VARCHAR'],
  ['context', 'JSON'],
  ['properties', 'JSON'],
  ['traits', 'JSON'],
  ['integrations', 'JSON'],
] as const;

/** The partition column: the object's hourly prefix, `YYYY/MM/DD/HH` (UTC arrival hour). */
export const PARTITION_COLUMN = 'dt';

// The local endpoint's layout: <dir>/<stream>/YYYY/MM/DD/HH/<file>.ndjson (scripts/local-firehose/sink.ts).
const HOUR_OF_PATH = String.raw`(\d{4}/\d{2}/\d{2}/\d{2})/[^/]*$`;

const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;
const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** The files of one stream under a data directory, as a DuckDB glob. */
export function streamGlob(dataDir: string, stream: string): string {
  return `${dataDir.replace(/\/+$/, '')}/${stream}/*/*/*/*/*.ndjson`;
}

/**
 * `CREATE VIEW events`: over the files of `glob`, or, when there are none (DuckDB refuses a glob
 * that matches nothing), an empty view of the same columns.
 */
export function eventsViewSql(glob: string | undefined): string {
  const columns = EVENT_COLUMNS.map(([name]) => ident(name));
  if (glob === undefined) {
    const empty = EVENT_COLUMNS.map(([name, type]) => `CAST(NULL AS ${type}) AS ${ident(name)}`);
    return `CREATE OR REPLACE VIEW events AS SELECT ${[...empty, `CAST(NULL AS VARCHAR) AS ${PARTITION_COLUMN}`].join(', ')} WHERE false`;
  }
  const types = EVENT_COLUMNS.map(([name, type]) => `${literal(name)}: ${literal(type)}`);
  return (
    `CREATE OR REPLACE VIEW events AS SELECT ${columns.join(', ')}, ` +
    `regexp_extract(filename, ${literal(HOUR_OF_PATH)}, 1) AS ${PARTITION_COLUMN} ` +
    `FROM read_json(${literal(glob)}, format = 'newline_delimited', ` +
    `columns = {${types.join(', ')}}, filename = true)`
  );
}
