// `npm start`: the collector locally end to end — the Worker under `wrangler dev` (offline,
// with its local queues and R2) delivering to a local Firehose endpoint that writes what it
// accepts to .data/firehose/<stream>/YYYY/MM/DD/HH/*.ndjson.
// Environment: PORT (default 8787), FIREHOSE_PORT (default 4573), WRITE_KEYS (default:
// track.json's key as source ndc-demo), FIREHOSE_STREAM (default ndc-segment); with
// FORWARD_WRITE_KEYS (e.g. ndc-demo=dest-key) also a local Segment-compatible endpoint on
// SEGMENT_PORT (default 8788) that the collector forwards to (docs/forwarding.md).
import { startStack } from './stack';

const stack = await startStack({
  port: Number(process.env['PORT'] ?? 8787),
  firehosePort: Number(process.env['FIREHOSE_PORT'] ?? 4573),
  stream: process.env['FIREHOSE_STREAM'] ?? 'ndc-segment',
  ...(process.env['WRITE_KEYS'] === undefined ? {} : { writeKeys: process.env['WRITE_KEYS'] }),
  ...(process.env['FORWARD_WRITE_KEYS'] === undefined
    ? {}
    : {
        forwardWriteKeys: process.env['FORWARD_WRITE_KEYS'],
        segmentPort: Number(process.env['SEGMENT_PORT'] ?? 8788),
      }),
  log: (line) => console.log(line),
});

console.log(`
ndc-segment is running.
  collector        ${stack.workerUrl}
  local Firehose   ${stack.firehose.url}  (stream "${stack.stream}")
  delivered files  .data/firehose/${stack.stream}/YYYY/MM/DD/HH/*.ndjson${
    stack.segment === undefined
      ? ''
      : `
  forwarding to    ${stack.segment.url}/v1/batch  (files .data/segment/<write key>/…)`
  }

Try:  curl -u 8GT90rhOugcEGAqdcBWP8muss7iSwwHy: -d @track.json ${stack.workerUrl}/v1/track
Then: cat .data/firehose/${stack.stream}/*/*/*/*/*.ndjson
`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void stack.stop().then(() => process.exit(0));
  });
}
