// File layout of the sink and its append-only, byte-exact writes.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FileSink,
  deliveryPath,
  hourPrefix,
  instanceTag,
} from '../../../scripts/local-firehose/sink';

describe('hourPrefix', () => {
  it('uses the UTC hour, zero-padded', () => {
    expect(hourPrefix(new Date('2026-01-02T03:59:59.999Z'))).toEqual(['2026', '01', '02', '03']);
    expect(hourPrefix(new Date('2026-12-31T23:00:00+02:00'))).toEqual(['2026', '12', '31', '21']);
  });
});

describe('instanceTag / deliveryPath', () => {
  it('builds <dir>/<stream>/YYYY/MM/DD/HH/<stream>-<start>-<pid>-<rand>.ndjson', () => {
    const tag = instanceTag(new Date('2026-05-06T07:08:09Z'), 1234, 'abc123');
    expect(tag).toBe('2026-05-06-07-08-09-1234-abc123');
    expect(deliveryPath('/d', 'events', new Date('2026-05-06T08:00:00Z'), tag)).toBe(
      '/d/events/2026/05/06/08/events-2026-05-06-07-08-09-1234-abc123.ndjson',
    );
  });
});

describe('FileSink.append', () => {
  let dir = '';
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('appends records byte for byte and reports a new file once', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sink-'));
    const sink = new FileSink(dir, 'tag');
    const at = new Date('2026-05-06T08:30:00Z');
    const first = sink.append('s', [Buffer.from('a\n'), Buffer.from([0, 255, 10])], at);
    const second = sink.append('s', [Buffer.from('b\n')], at);
    expect(first).toMatchObject({ bytes: 5, created: true });
    expect(second).toMatchObject({ bytes: 2, created: false, file: first.file });
    expect(await readFile(first.file)).toEqual(Buffer.from([97, 10, 0, 255, 10, 98, 10]));
  });

  it('starts a new file in the next hour and writes nothing for empty records', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sink-'));
    const sink = new FileSink(dir, 'tag');
    const a = sink.append('s', [Buffer.from('a\n')], new Date('2026-05-06T08:59:59Z'));
    const b = sink.append('s', [Buffer.from('b\n')], new Date('2026-05-06T09:00:00Z'));
    const empty = sink.append('s', [Buffer.alloc(0)], new Date('2026-05-06T10:00:00Z'));
    expect(a.file).not.toBe(b.file);
    expect(b.created).toBe(true);
    expect(empty).toMatchObject({ bytes: 0, created: false });
    expect(sink.writtenFiles()).toEqual([a.file, b.file]);
  });
});
