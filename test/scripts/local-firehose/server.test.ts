// The local Firehose endpoint over real HTTP on loopback, called the way the Worker calls it:
// aws4fetch-signed PutRecordBatch. Covers delivery to files, auth failures, limits, faults and
// the admin endpoints.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type {
  PutRecordBatchOutput,
  PutRecordOutput,
} from '../../../scripts/local-firehose/protocol';
import type { LocalFirehoseStats } from '../../../scripts/local-firehose/server';
import {
  STREAM,
  adminGet,
  adminPost,
  apiHeaders,
  batchBody,
  call,
  callTampered,
  createHarness,
  fingerprint,
  listFiles,
  ndjsonRecord,
  putRecordBatch,
  readAllFiles,
  signingClient,
} from './support';

const harness = createHarness();
afterEach(() => harness.cleanup());

const records = (n: number, padTo = 0): Buffer[] =>
  Array.from({ length: n }, (_, i) => ndjsonRecord(i, padTo));

const batchOutput = (json: Record<string, unknown>): PutRecordBatchOutput =>
  json as unknown as PutRecordBatchOutput;

describe('PutRecordBatch delivery', () => {
  it('writes a signed batch byte-exact to <stream>/YYYY/MM/DD/HH/<stream>-….ndjson', async () => {
    const clock = new Date();
    const { firehose, dataDir, client } = await harness.start({ now: () => clock });
    const sent = [...records(3), Buffer.from([0xff, 0x00, 0x7b, 0x0a])];

    const answer = await putRecordBatch(client, firehose.url, sent);

    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    const out = batchOutput(answer.json);
    expect(out.FailedPutCount).toBe(0);
    expect(out.Encrypted).toBe(false);
    expect(out.RequestResponses).toHaveLength(4);
    for (const entry of out.RequestResponses) {
      expect(entry.RecordId).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      expect(entry.ErrorCode).toBeUndefined();
    }
    const hour = [
      String(clock.getUTCFullYear()),
      String(clock.getUTCMonth() + 1).padStart(2, '0'),
      String(clock.getUTCDate()).padStart(2, '0'),
      String(clock.getUTCHours()).padStart(2, '0'),
    ].join('/');
    const files = await listFiles(dataDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(
      new RegExp(`^${STREAM}/${hour}/${STREAM}-\\d{4}(-\\d{2}){5}-\\d+-[0-9a-f]{6}\\.ndjson$`),
    );
    expect(fingerprint(await readFile(join(dataDir, files[0] ?? '')))).toEqual(
      fingerprint(Buffer.concat(sent)),
    );
  });

  it('appends later batches to the same file, in order', async () => {
    const { firehose, dataDir, client } = await harness.start();
    const first = records(2);
    const second = [ndjsonRecord(7)];
    expect((await putRecordBatch(client, firehose.url, first)).status).toBe(200);
    expect((await putRecordBatch(client, firehose.url, second)).status).toBe(200);
    expect(await listFiles(dataDir)).toHaveLength(1);
    expect(fingerprint(await readAllFiles(dataDir))).toEqual(
      fingerprint(Buffer.concat([...first, ...second])),
    );
  });

  it('keeps streams in separate folders', async () => {
    const { firehose, dataDir, client } = await harness.start();
    await putRecordBatch(client, firehose.url, [Buffer.from('a\n')], 'stream-a');
    await putRecordBatch(client, firehose.url, [Buffer.from('b\n')], 'stream-b');
    const files = await listFiles(dataDir);
    expect(files.map((f) => f.split('/')[0])).toEqual(['stream-a', 'stream-b']);
  });

  it('answers PutRecord with a RecordId and writes the record', async () => {
    const { firehose, dataDir, client } = await harness.start();
    const body = JSON.stringify({
      DeliveryStreamName: STREAM,
      Record: { Data: Buffer.from('one\n').toString('base64') },
    });
    const answer = await call(client, firehose.url, body, apiHeaders('PutRecord'));
    expect(answer.status).toBe(200);
    const out = answer.json as unknown as PutRecordOutput;
    expect(out.RecordId.length).toBeGreaterThan(20);
    expect(out.Encrypted).toBe(false);
    expect((await readAllFiles(dataDir)).toString()).toBe('one\n');
  });

  it('accepts a session token when one is required and sent', async () => {
    const { firehose, dataDir } = await harness.start({ sessionToken: 'tok-1' });
    const client = signingClient({ sessionToken: 'tok-1' });
    expect((await putRecordBatch(client, firehose.url, records(1))).status).toBe(200);
    expect((await readAllFiles(dataDir)).length).toBeGreaterThan(0);
  });
});

describe('authentication', () => {
  const body = batchBody(STREAM, records(2));

  it.each<[string, Parameters<typeof signingClient>[0], string]>([
    ['a wrong secret', { secretAccessKey: 'wrong' }, 'InvalidSignatureException'],
    ['a wrong region', { region: 'us-west-2' }, 'InvalidSignatureException'],
    ['a wrong service', { service: 'kinesis' }, 'InvalidSignatureException'],
    ['an unknown access key', { accessKeyId: 'AKIDNOBODY' }, 'UnrecognizedClientException'],
  ])('rejects %s with 403 and writes nothing', async (_name, overrides, type) => {
    const { firehose, dataDir } = await harness.start();
    const answer = await call(signingClient(overrides), firehose.url, body);
    expect(answer.status).toBe(403);
    expect(answer.json['__type']).toBe(type);
    expect(answer.headers.get('x-amzn-errortype')).toBe(type);
    expect(await listFiles(dataDir)).toEqual([]);
    expect(firehose.stats().callsByOutcome.auth_failed).toBe(1);
  });

  it('rejects a body tampered with after signing', async () => {
    const { firehose, dataDir, client } = await harness.start();
    const answer = await callTampered(client, firehose.url, body, (signed) => ({
      ...signed,
      body: batchBody(STREAM, [Buffer.from('evil\n')]),
    }));
    expect(answer.status).toBe(403);
    expect(answer.json['__type']).toBe('InvalidSignatureException');
    expect(await listFiles(dataDir)).toEqual([]);
  });

  it('rejects a call without Authorization as MissingAuthenticationTokenException', async () => {
    const { firehose, dataDir } = await harness.start();
    const res = await fetch(firehose.url, { method: 'POST', headers: apiHeaders(), body });
    expect(res.status).toBe(403);
    expect(((await res.json()) as Record<string, unknown>)['__type']).toBe(
      'MissingAuthenticationTokenException',
    );
    expect(await listFiles(dataDir)).toEqual([]);
  });

  it('rejects a missing session token when one is required', async () => {
    const { firehose, dataDir, client } = await harness.start({ sessionToken: 'tok-1' });
    const answer = await call(client, firehose.url, body);
    expect(answer.status).toBe(403);
    expect(answer.json['__type']).toBe('UnrecognizedClientException');
    expect(await listFiles(dataDir)).toEqual([]);
  });
});

describe('limits', () => {
  const mib4 = 4 * 1024 * 1024;
  // Four records at the per-record maximum plus one that fills the call to exactly 4 MiB.
  const fourMiB = (extra: number): Buffer[] => [
    ...Array.from({ length: 4 }, () => Buffer.alloc(1_024_000, 0x61)),
    Buffer.alloc(mib4 - 4 * 1_024_000 + extra, 0x62),
  ];

  it.each<[string, number, () => Buffer[]]>([
    ['500 records', 200, () => records(500)],
    ['501 records', 400, () => records(501)],
    ['a 1,024,000-byte record', 200, () => [Buffer.alloc(1_024_000, 0x61)]],
    ['a 1,024,001-byte record', 400, () => [Buffer.alloc(1_024_001, 0x61)]],
    ['exactly 4 MiB of data', 200, () => fourMiB(0)],
    ['4 MiB + 1 byte of data', 400, () => fourMiB(1)],
  ])('%s → %i', async (_name, status, make) => {
    const { firehose, dataDir, client } = await harness.start();
    const sent = make();
    const answer = await putRecordBatch(client, firehose.url, sent);
    expect(answer.status).toBe(status);
    if (status === 200) {
      expect(batchOutput(answer.json).RequestResponses).toHaveLength(sent.length);
      expect(fingerprint(await readAllFiles(dataDir))).toEqual(fingerprint(Buffer.concat(sent)));
    } else {
      expect(answer.json['__type']).toBe('InvalidArgumentException');
      expect(await listFiles(dataDir)).toEqual([]);
    }
  });

  it('rejects an empty Records list', async () => {
    const { firehose, client } = await harness.start();
    const answer = await putRecordBatch(client, firehose.url, []);
    expect(answer.status).toBe(400);
    expect(answer.json['__type']).toBe('InvalidArgumentException');
  });
});

describe('malformed calls', () => {
  it.each<[string, string, Record<string, string>, number, string]>([
    ['malformed JSON', '{"DeliveryStreamName":', apiHeaders(), 400, 'InvalidArgumentException'],
    [
      'invalid base64',
      JSON.stringify({ DeliveryStreamName: STREAM, Records: [{ Data: '@@@@' }] }),
      apiHeaders(),
      400,
      'InvalidArgumentException',
    ],
    [
      'a JSON content type',
      batchBody(STREAM, records(1)),
      { ...apiHeaders(), 'Content-Type': 'application/json' },
      400,
      'InvalidArgumentException',
    ],
    [
      'an unknown operation',
      batchBody(STREAM, records(1)),
      apiHeaders('DeleteDeliveryStream'),
      400,
      'UnknownOperationException',
    ],
  ])('rejects %s', async (_name, body, headers, status, type) => {
    const { firehose, dataDir, client } = await harness.start();
    const answer = await call(client, firehose.url, body, headers);
    expect(answer.status).toBe(status);
    expect(answer.json['__type']).toBe(type);
    expect(await listFiles(dataDir)).toEqual([]);
  });

  it('answers ResourceNotFoundException for a stream outside --streams', async () => {
    const { firehose, dataDir, client } = await harness.start({ streams: ['known'] });
    const unknown = await putRecordBatch(client, firehose.url, records(1), 'other');
    expect(unknown.status).toBe(400);
    expect(unknown.json['__type']).toBe('ResourceNotFoundException');
    expect(await listFiles(dataDir)).toEqual([]);
    expect((await putRecordBatch(client, firehose.url, records(1), 'known')).status).toBe(200);
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    const { firehose } = await harness.start();
    expect((await fetch(`${firehose.url}/nope`, { method: 'POST' })).status).toBe(404);
    const get = await fetch(firehose.url);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });
});

describe('faults', () => {
  it('fails every record with ErrorCode at failRecords 1 and writes nothing', async () => {
    const { firehose, dataDir, client } = await harness.start({ faults: { failRecords: 1 } });
    const answer = await putRecordBatch(client, firehose.url, records(5));
    expect(answer.status).toBe(200);
    const out = batchOutput(answer.json);
    expect(out.FailedPutCount).toBe(5);
    for (const entry of out.RequestResponses) {
      expect(Object.keys(entry).sort()).toEqual(['ErrorCode', 'ErrorMessage']);
      expect(entry.ErrorCode).toBe('ServiceUnavailableException');
      expect(entry.ErrorMessage).toBe('Slow down.');
    }
    expect(await listFiles(dataDir)).toEqual([]);
    expect(firehose.stats()).toMatchObject({ recordsFailed: 5, recordsAccepted: 0 });
  });

  it('fails about the configured share, reproducibly, and writes only the rest', async () => {
    const sent = records(500);
    const failedIndexes: number[][] = [];
    for (let run = 0; run < 2; run++) {
      const { firehose, dataDir, client } = await harness.start({
        faults: { failRecords: 0.3 },
        seed: 1234,
      });
      const out = batchOutput((await putRecordBatch(client, firehose.url, sent)).json);
      const failed = out.RequestResponses.flatMap((e, i) => (e.ErrorCode === undefined ? [] : [i]));
      expect(out.FailedPutCount).toBe(failed.length);
      expect(failed.length).toBeGreaterThan(120);
      expect(failed.length).toBeLessThan(180);
      const kept = sent.filter((_, i) => !failed.includes(i));
      expect(fingerprint(await readAllFiles(dataDir))).toEqual(fingerprint(Buffer.concat(kept)));
      failedIndexes.push(failed);
    }
    expect(failedIndexes[1]).toEqual(failedIndexes[0]);
  });

  it('answers PutRecord with 503 ServiceUnavailableException when its record fails', async () => {
    const { firehose, dataDir, client } = await harness.start({ faults: { failRecords: 1 } });
    const body = JSON.stringify({ DeliveryStreamName: STREAM, Record: { Data: 'eAo=' } });
    const answer = await call(client, firehose.url, body, apiHeaders('PutRecord'));
    expect(answer.status).toBe(503);
    expect(answer.json['__type']).toBe('ServiceUnavailableException');
    expect(await listFiles(dataDir)).toEqual([]);
  });

  it('answers 400 ResourceNotFoundException at notFound 1 and writes nothing', async () => {
    const { firehose, dataDir, client } = await harness.start({ faults: { notFound: 1 } });
    const answer = await putRecordBatch(client, firehose.url, records(2));
    expect(answer.status).toBe(400);
    expect(answer.json['__type']).toBe('ResourceNotFoundException');
    expect(await listFiles(dataDir)).toEqual([]);
  });

  it('throttles with 503 ServiceUnavailableException', async () => {
    const { firehose, dataDir, client } = await harness.start({ faults: { throttle: 1 } });
    const answer = await putRecordBatch(client, firehose.url, records(2));
    expect(answer.status).toBe(503);
    expect(answer.json).toEqual({ __type: 'ServiceUnavailableException', message: 'Slow down.' });
    expect(await listFiles(dataDir)).toEqual([]);
  });

  it('answers 500 InternalFailure at error500 1', async () => {
    const { firehose, dataDir, client } = await harness.start({ faults: { error500: 1 } });
    const answer = await putRecordBatch(client, firehose.url, records(2));
    expect(answer.status).toBe(500);
    expect(answer.json['__type']).toBe('InternalFailure');
    expect(await listFiles(dataDir)).toEqual([]);
  });

  it('delays every response by latencyMs', async () => {
    const { firehose, client } = await harness.start({ faults: { latencyMs: 250 } });
    const started = performance.now();
    const answer = await putRecordBatch(client, firehose.url, records(1));
    expect(answer.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('holds a stalled call for stallMs, then answers 500 with nothing written', async () => {
    const { firehose, dataDir, client } = await harness.start({
      faults: { stall: 1, stallMs: 300 },
    });
    const started = performance.now();
    const answer = await putRecordBatch(client, firehose.url, records(1));
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(answer.status).toBe(500);
    expect(answer.json['__type']).toBe('InternalFailure');
    expect(await listFiles(dataDir)).toEqual([]);
  });

  it('closes promptly while a call is stalled', async () => {
    const { firehose, client } = await harness.start({ faults: { stall: 1, stallMs: 30_000 } });
    const pending = putRecordBatch(client, firehose.url, records(1)).then(
      () => 'answered',
      () => 'dropped',
    );
    await new Promise((r) => setTimeout(r, 100));
    const started = performance.now();
    await firehose.close();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await pending).toBe('dropped');
  });

  it('changes faults at runtime through POST /_local/faults', async () => {
    const { firehose, dataDir, client } = await harness.start();
    const down = await adminPost(firehose.url, '/_local/faults', { error500: 1 });
    expect(down.status).toBe(200);
    expect(down.json).toMatchObject({ error500: 1, throttle: 0 });
    expect((await putRecordBatch(client, firehose.url, [Buffer.from('lost\n')])).status).toBe(500);

    await adminPost(firehose.url, '/_local/faults', { error500: 0 });
    expect((await putRecordBatch(client, firehose.url, [Buffer.from('kept\n')])).status).toBe(200);
    expect((await readAllFiles(dataDir)).toString()).toBe('kept\n');
    expect(firehose.faults().error500).toBe(0);
  });

  it('rejects an invalid fault patch and keeps the old faults', async () => {
    const { firehose } = await harness.start({ faults: { throttle: 0.5 } });
    const answer = await adminPost(firehose.url, '/_local/faults', { throttle: 2 });
    expect(answer.status).toBe(400);
    expect(String(answer.json['message'])).toMatch(/throttle/);
    expect(firehose.faults().throttle).toBe(0.5);
  });

  it('applies setFaults from the library API', async () => {
    const { firehose, client } = await harness.start();
    firehose.setFaults({ throttle: 1 });
    expect((await putRecordBatch(client, firehose.url, records(1))).status).toBe(503);
    firehose.setFaults({ throttle: 0 });
    expect((await putRecordBatch(client, firehose.url, records(1))).status).toBe(200);
  });
});

describe('per-stream faults and read-back', () => {
  it('scopes a fault patch to one stream, leaving the others healthy', async () => {
    const { firehose, client } = await harness.start();
    const patch = await fetch(`${firehose.url}/_local/faults`, {
      method: 'POST',
      body: JSON.stringify({ stream: 'broken', throttle: 1 }),
    });
    expect(patch.status).toBe(200);
    expect((await putRecordBatch(client, firehose.url, records(2), 'broken')).status).toBe(503);
    expect((await putRecordBatch(client, firehose.url, records(2), 'healthy')).status).toBe(200);
    expect(firehose.faults().throttle).toBe(0);
  });

  it('rejects a non-string stream in a fault patch', async () => {
    const { firehose } = await harness.start();
    const res = await fetch(`${firehose.url}/_local/faults`, {
      method: 'POST',
      body: JSON.stringify({ stream: 3, throttle: 1 }),
    });
    expect(res.status).toBe(400);
  });

  it('serves what it wrote for one stream at GET /_local/records', async () => {
    const { firehose, client } = await harness.start();
    const sent = records(3);
    await putRecordBatch(client, firehose.url, sent, 'one');
    await putRecordBatch(client, firehose.url, records(1), 'two');
    const res = await fetch(`${firehose.url}/_local/records?stream=one`);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(Buffer.concat(sent));
    const none = await fetch(`${firehose.url}/_local/records?stream=never`);
    expect(await none.text()).toBe('');
  });
});

describe('admin endpoints', () => {
  it('answers GET /_local/health', async () => {
    const { firehose } = await harness.start();
    const answer = await adminGet(firehose.url, '/_local/health');
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ status: 'ok' });
  });

  it('counts calls, records, bytes and files in GET /_local/stats', async () => {
    const { firehose, client } = await harness.start({ seed: 5 });
    const sent = records(3);
    await putRecordBatch(client, firehose.url, sent);
    await putRecordBatch(client, firehose.url, records(2), 'other');
    await call(signingClient({ secretAccessKey: 'bad' }), firehose.url, batchBody(STREAM, sent));
    firehose.setFaults({ failRecords: 1 });
    await putRecordBatch(client, firehose.url, records(4));

    const answer = await adminGet(firehose.url, '/_local/stats');
    expect(answer.status).toBe(200);
    const stats = answer.json as unknown as LocalFirehoseStats;
    expect(stats).toMatchObject({
      calls: 4,
      recordsAccepted: 5,
      recordsFailed: 4,
      filesWritten: 2,
      seed: 5,
      faults: { failRecords: 1 },
    });
    expect(stats.callsByOutcome).toMatchObject({ ok: 2, auth_failed: 1, all_failed: 1 });
    expect(stats.bytesWritten).toBe(Buffer.concat(sent).length + Buffer.concat(records(2)).length);
    expect(stats.streams[STREAM]).toMatchObject({ calls: 2, recordsAccepted: 3, recordsFailed: 4 });
    expect(stats.streams[STREAM]?.files).toHaveLength(1);
    expect(stats).toEqual(firehose.stats());
  });

  it('reseeds through POST /_local/faults', async () => {
    const { firehose } = await harness.start({ seed: 1 });
    const answer = await adminPost(firehose.url, '/_local/faults', { seed: 77 });
    expect(answer.json['seed']).toBe(77);
    expect(firehose.stats().seed).toBe(77);
  });

  it('answers 404 for an unknown admin path and 405 for a wrong method', async () => {
    const { firehose } = await harness.start();
    expect((await adminGet(firehose.url, '/_local/nope')).status).toBe(404);
    expect((await adminPost(firehose.url, '/_local/stats', {})).status).toBe(405);
  });
});

describe('late answers', () => {
  it('writes, counts and lists a late call before its answer arrives', async () => {
    const holdMs = 2_000;
    const { firehose, dataDir, client } = await harness.start({
      faults: { lateAnswer: 1, lateAnswerMs: holdMs },
    });
    const sent = records(3);
    const started = performance.now();
    let answered = false;
    const pending = putRecordBatch(client, firehose.url, sent).then((answer) => {
      answered = true;
      return answer;
    });

    await expect
      .poll(async () => fingerprint(await readAllFiles(dataDir)), { timeout: holdMs / 2 })
      .toEqual(fingerprint(Buffer.concat(sent)));
    const late = await adminGet(firehose.url, `/_local/late?stream=${STREAM}`);
    const stats = firehose.stats();
    expect(answered).toBe(false);
    expect(late.status).toBe(200);
    expect(late.json).toEqual({
      calls: 1,
      records: 3,
      events: 3,
      messageIds: ['m-0', 'm-1', 'm-2'],
    });
    expect(stats.recordsAccepted).toBe(3);
    expect(stats.callsByOutcome.late).toBe(1);
    expect(stats.streams[STREAM]).toMatchObject({ lateCalls: 1, lateRecords: 3 });

    const answer = await pending;
    expect(performance.now() - started).toBeGreaterThanOrEqual(holdMs - 10);
    expect(answer.status).toBe(200);
    const out = batchOutput(answer.json);
    expect(out.FailedPutCount).toBe(0);
    expect(out.RequestResponses.every((e) => e.RecordId !== undefined)).toBe(true);
    expect(firehose.late(STREAM)).toEqual(late.json);
  });

  it('keeps the records written and marked when the client gives up before the answer', async () => {
    const { firehose, dataDir, client } = await harness.start({
      faults: { lateAnswer: 1, lateAnswerMs: 30_000 },
    });
    const sent = records(2);
    const gaveUp = await client
      .fetch(firehose.url, {
        method: 'POST',
        headers: apiHeaders(),
        body: batchBody(STREAM, sent),
        signal: AbortSignal.timeout(300),
      })
      .then(
        () => 'answered',
        (err: unknown) => (err instanceof Error ? err.name : String(err)),
      );
    expect(gaveUp).toBe('TimeoutError');
    // Give the server time to see the connection close; nothing may change when it does.
    await new Promise((r) => setTimeout(r, 100));

    expect(fingerprint(await readAllFiles(dataDir))).toEqual(fingerprint(Buffer.concat(sent)));
    expect((await adminGet(firehose.url, `/_local/late?stream=${STREAM}`)).json).toEqual({
      calls: 1,
      records: 2,
      events: 2,
      messageIds: ['m-0', 'm-1'],
    });
    expect(firehose.stats()).toMatchObject({
      calls: 1,
      recordsAccepted: 2,
      callsByOutcome: { late: 1, ok: 0, internal_error: 0 },
    });
  });

  it('marks only the records a late call wrote when some of them fail', async () => {
    const { firehose, dataDir, client } = await harness.start({
      faults: { lateAnswer: 1, lateAnswerMs: 0, failRecords: 0.5 },
      seed: 1234,
    });
    const sent = records(20);
    const out = batchOutput((await putRecordBatch(client, firehose.url, sent)).json);
    const kept = sent.filter((_, i) => out.RequestResponses[i]?.ErrorCode === undefined);
    expect(out.FailedPutCount).toBeGreaterThan(0);
    expect(kept.length).toBeGreaterThan(0);
    expect(fingerprint(await readAllFiles(dataDir))).toEqual(fingerprint(Buffer.concat(kept)));
    const ids = kept.map((r) => (JSON.parse(r.toString()) as { messageId: string }).messageId);
    expect(firehose.late(STREAM)).toEqual({
      calls: 1,
      records: kept.length,
      events: kept.length,
      messageIds: ids,
    });
  });

  it('answers GET /_local/late with zeros for a stream without late calls', async () => {
    const { firehose, client } = await harness.start();
    await putRecordBatch(client, firehose.url, records(2));
    const answer = await adminGet(firehose.url, `/_local/late?stream=${STREAM}`);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ calls: 0, records: 0, events: 0, messageIds: [] });
  });

  it('refuses GET /_local/late without a stream and other methods', async () => {
    const { firehose } = await harness.start();
    expect((await adminGet(firehose.url, '/_local/late')).status).toBe(400);
    expect((await adminGet(firehose.url, '/_local/late?stream=')).status).toBe(400);
    const post = await adminPost(firehose.url, `/_local/late?stream=${STREAM}`, {});
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });
});

describe('expired tokens', () => {
  it('answers 400 ExpiredTokenException at expiredToken 1 and writes nothing', async () => {
    const { firehose, dataDir, client } = await harness.start({ faults: { expiredToken: 1 } });
    const answer = await putRecordBatch(client, firehose.url, records(2));
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({
      __type: 'ExpiredTokenException',
      message: 'The security token included in the request is expired',
    });
    expect(answer.headers.get('x-amzn-errortype')).toBe('ExpiredTokenException');
    expect(await listFiles(dataDir)).toEqual([]);
    expect(firehose.stats()).toMatchObject({
      recordsAccepted: 0,
      callsByOutcome: { expired_token: 1 },
    });
  });

  it('wins over a late answer on the same call', async () => {
    const { firehose, dataDir, client } = await harness.start({
      faults: { expiredToken: 1, lateAnswer: 1, lateAnswerMs: 30_000 },
    });
    const answer = await putRecordBatch(client, firehose.url, records(1));
    expect(answer.json['__type']).toBe('ExpiredTokenException');
    expect(await listFiles(dataDir)).toEqual([]);
    expect(firehose.late(STREAM).calls).toBe(0);
  });
});

describe('maxCallBytes', () => {
  it('refuses a call whose decoded data exceeds the cap, naming both sizes', async () => {
    const { firehose, dataDir, client } = await harness.start({
      faults: { maxCallBytes: 4_000_000 },
    });
    // 4 MiB of data: within the API's own limit, above the decimal 4 MB reading.
    const sent = [
      ...Array.from({ length: 4 }, () => Buffer.alloc(1_024_000, 0x61)),
      Buffer.alloc(4 * 1024 * 1024 - 4 * 1_024_000, 0x62),
    ];
    const answer = await putRecordBatch(client, firehose.url, sent);
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({
      __type: 'InvalidArgumentException',
      message: 'Records size 4194304 bytes exceeds the limit of 4000000 bytes for the request',
    });
    expect(await listFiles(dataDir)).toEqual([]);
    expect(firehose.stats()).toMatchObject({
      recordsAccepted: 0,
      callsByOutcome: { too_large: 1 },
    });
  });

  // 1,000 bytes of data are 1,336 characters of base64: the cap counts the decoded bytes.
  it.each<[string, number, number]>([
    ['accepts a call at the cap whole', 1_000, 200],
    ['refuses a call one byte over the cap whole', 1_001, 400],
  ])('%s', async (_name, total, status) => {
    const { firehose, dataDir, client } = await harness.start({ faults: { maxCallBytes: 1_000 } });
    const sent = [
      Buffer.alloc(400, 0x61),
      Buffer.alloc(400, 0x62),
      Buffer.alloc(total - 800, 0x63),
    ];
    const answer = await putRecordBatch(client, firehose.url, sent);
    expect(answer.status).toBe(status);
    if (status === 200) {
      expect(batchOutput(answer.json).FailedPutCount).toBe(0);
      expect(fingerprint(await readAllFiles(dataDir))).toEqual(fingerprint(Buffer.concat(sent)));
    } else {
      expect(answer.json['__type']).toBe('InvalidArgumentException');
      expect(answer.json['message']).toBe(
        'Records size 1001 bytes exceeds the limit of 1000 bytes for the request',
      );
      expect(await listFiles(dataDir)).toEqual([]);
    }
  });

  it('is off at 0 and turns on and off through POST /_local/faults', async () => {
    const { firehose, client } = await harness.start();
    const sent = [Buffer.alloc(100, 0x61)];
    expect((await putRecordBatch(client, firehose.url, sent)).status).toBe(200);
    const on = await adminPost(firehose.url, '/_local/faults', { maxCallBytes: 99 });
    expect(on.json).toMatchObject({ maxCallBytes: 99 });
    expect((await putRecordBatch(client, firehose.url, sent)).status).toBe(400);
    await adminPost(firehose.url, '/_local/faults', { maxCallBytes: 0 });
    expect((await putRecordBatch(client, firehose.url, sent)).status).toBe(200);
  });

  it('rejects a cap above the API limit and keeps the old one', async () => {
    const { firehose } = await harness.start({ faults: { maxCallBytes: 10 } });
    const answer = await adminPost(firehose.url, '/_local/faults', { maxCallBytes: 4_194_305 });
    expect(answer.status).toBe(400);
    expect(String(answer.json['message'])).toMatch(/maxCallBytes must be an integer/);
    expect(firehose.faults().maxCallBytes).toBe(10);
  });
});

describe('new faults scoped to a stream', () => {
  it('fail only their stream and leave the server-wide faults at 0', async () => {
    const { firehose, client } = await harness.start();
    const scope = async (body: Record<string, unknown>): Promise<void> => {
      expect((await adminPost(firehose.url, '/_local/faults', body)).status).toBe(200);
    };
    await scope({ stream: 'expired', expiredToken: 1 });
    await scope({ stream: 'capped', maxCallBytes: 10 });
    await scope({ stream: 'slow', lateAnswer: 1, lateAnswerMs: 300 });
    const sent = [ndjsonRecord(1)];

    const expired = await putRecordBatch(client, firehose.url, sent, 'expired');
    expect(expired.json['__type']).toBe('ExpiredTokenException');
    const capped = await putRecordBatch(client, firehose.url, sent, 'capped');
    expect(capped.json['__type']).toBe('InvalidArgumentException');
    const started = performance.now();
    expect((await putRecordBatch(client, firehose.url, sent, 'slow')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect((await putRecordBatch(client, firehose.url, sent, 'healthy')).status).toBe(200);

    expect(firehose.late('slow')).toMatchObject({ calls: 1, messageIds: ['m-1'] });
    expect(firehose.late('healthy')).toMatchObject({ calls: 0, messageIds: [] });
    expect(firehose.stats().streams['healthy']).toMatchObject({ recordsAccepted: 1, lateCalls: 0 });
    expect(firehose.faults()).toMatchObject({ expiredToken: 0, maxCallBytes: 0, lateAnswer: 0 });
  });
});

describe('seeded runs with the new faults at 0', () => {
  // Recorded over HTTP before lateAnswer, expiredToken and maxCallBytes existed: seed 8,
  // throttle 0.25, error500 0.1, notFound 0.1, failRecords 0.3, ten calls of five records
  // (x = a failed record, . = a written one).
  const BEFORE =
    '...x. error500 throttle throttle notFound .x... ..xx. notFound .x..x throttle'.split(' ');

  it('fail the same calls and records as before', async () => {
    const { firehose, client } = await harness.start({
      seed: 8,
      faults: {
        throttle: 0.25,
        error500: 0.1,
        notFound: 0.1,
        failRecords: 0.3,
        lateAnswer: 0,
        expiredToken: 0,
        maxCallBytes: 4_000_000,
      },
    });
    const seen: string[] = [];
    for (let i = 0; i < BEFORE.length; i++) {
      const answer = await putRecordBatch(client, firehose.url, records(5));
      if (answer.status === 200) {
        const out = batchOutput(answer.json);
        seen.push(
          out.RequestResponses.map((e) => (e.ErrorCode === undefined ? '.' : 'x')).join(''),
        );
      } else {
        const kinds: Record<string, string> = {
          InternalFailure: 'error500',
          ServiceUnavailableException: 'throttle',
          ResourceNotFoundException: 'notFound',
        };
        seen.push(kinds[String(answer.json['__type'])] ?? String(answer.json['__type']));
      }
    }
    expect(seen).toEqual(BEFORE);
  });
});
