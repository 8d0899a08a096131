// A loopback stand-in for Firehose's PutRecordBatch: answers every call 200 with one RecordId
// per record, and counts calls, records and the events (NDJSON lines) they carry. It does not
// verify signatures (scripts/local-firehose does); it only keeps a queue consumer from erroring.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FirehoseStub {
  endpoint: string;
  stats: { calls: number; records: number; events: number; bytes: number; malformed: number };
  close: () => Promise<void>;
}

function countLines(data: string): number {
  const text = Buffer.from(data, 'base64').toString('utf8');
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n += 1;
  return n;
}

export async function startFirehoseStub(): Promise<FirehoseStub> {
  const stats = { calls: 0, records: 0, events: 0, bytes: 0, malformed: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let records: unknown[] = [];
      try {
        const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const list =
          typeof body === 'object' && body !== null && 'Records' in body ? body.Records : undefined;
        if (Array.isArray(list)) records = list;
        else stats.malformed += 1;
      } catch {
        stats.malformed += 1;
      }
      stats.calls += 1;
      stats.records += records.length;
      for (const r of records) {
        const data = typeof r === 'object' && r !== null && 'Data' in r ? r.Data : undefined;
        if (typeof data !== 'string') continue;
        stats.events += countLines(data);
        stats.bytes += Buffer.byteLength(data, 'base64');
      }
      res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify({
          FailedPutCount: 0,
          Encrypted: false,
          RequestResponses: records.map((_, i) => ({ RecordId: `bench-${stats.records}-${i}` })),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}/`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
