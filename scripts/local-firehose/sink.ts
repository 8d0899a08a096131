// Where accepted records land: files laid out the way Firehose delivers to S3, one object per
// stream per UTC hour of arrival, `<dataDir>/<stream>/YYYY/MM/DD/HH/<stream>-<start>-<pid>-<rand>
// .ndjson`. Records are appended byte for byte, synchronously, so whatever the endpoint has
// acknowledged is already in the file. Path naming is pure; `FileSink.append` does the I/O.

import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const SINK_FILE_EXTENSION = '.ndjson';

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * `YYYY/MM/DD/HH` of an instant in UTC: Firehose's default S3 prefix ("Amazon S3 object name
 * format", Firehose developer guide) is the UTC arrival hour.
 */
export function hourPrefix(at: Date): string[] {
  return [
    pad(at.getUTCFullYear(), 4),
    pad(at.getUTCMonth() + 1),
    pad(at.getUTCDate()),
    pad(at.getUTCHours()),
  ];
}

/**
 * The per-instance part of every file name: server start as `YYYY-MM-DD-HH-MM-SS` (the
 * timestamp layout of Firehose's own object names), the pid and a random suffix, so two runs,
 * or two servers started in the same second, never append to each other's files.
 */
export function instanceTag(startedAt: Date, pid: number, randomSuffix: string): string {
  const stamp = [
    pad(startedAt.getUTCFullYear(), 4),
    pad(startedAt.getUTCMonth() + 1),
    pad(startedAt.getUTCDate()),
    pad(startedAt.getUTCHours()),
    pad(startedAt.getUTCMinutes()),
    pad(startedAt.getUTCSeconds()),
  ].join('-');
  return `${stamp}-${pid}-${randomSuffix}`;
}

export function deliveryPath(dataDir: string, stream: string, at: Date, tag: string): string {
  return join(dataDir, stream, ...hourPrefix(at), `${stream}-${tag}${SINK_FILE_EXTENSION}`);
}

export interface SinkWrite {
  file: string;
  bytes: number;
  // True the first time this sink writes to `file`.
  created: boolean;
}

export class FileSink {
  private readonly files = new Set<string>();

  constructor(
    readonly dataDir: string,
    readonly tag: string,
  ) {}

  /**
   * Appends the records, concatenated in order and unchanged, in one synchronous write. Throws
   * on I/O errors; the caller must then not acknowledge any of them. Nothing is written (and
   * no file created) when the records hold no bytes.
   */
  append(stream: string, records: readonly Uint8Array[], at: Date): SinkWrite {
    const file = deliveryPath(this.dataDir, stream, at, this.tag);
    const data = Buffer.concat(records);
    if (data.length === 0) return { file, bytes: 0, created: false };
    mkdirSync(join(file, '..'), { recursive: true });
    appendFileSync(file, data);
    const created = !this.files.has(file);
    this.files.add(file);
    return { file, bytes: data.length, created };
  }

  writtenFiles(): string[] {
    return [...this.files];
  }
}
