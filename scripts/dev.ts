// `npm start`: the collector locally end to end — the Worker under `wrangler dev` (offline,
// with its local queues and R2) delivering to a local Firehose endpoint that writes what it
// accepts to .data/firehose/<stream>/YYYY/MM/DD/HH/*.ndjson.
// Environment: PORT (default 8787), FIREHOSE_PORT (default 4573), WRITE_KEYS (default:
// track.json's key as source ndc-demo), FIREHOSE_STREAM (default ndc-segment).
import { startStack } from './stack';

const stack = await startStack({
  port: Number(process.env['PORT'] ?? 8787),
  firehosePort: Number(process.env['FIREHOSE_PORT'] ?? 4573),
  stream: process.env['FIREHOSE_STREAM'] ?? 'ndc-segment',
  ...(process.env['WRITE_KEYS'] === undefined ? {} : { writeKeys: process.env['WRITE_KEYS'] }),
  log: (line) => console.log(line),
});

console.log(`
ndc-segment is running.
  collector        ${stack.workerUrl}
  local Firehose   ${stack.firehose.url}  (stream "${stack.stream}")
  delivered files  .data/firehose/${stack.stream}/YYYY/MM/DD/HH/*.ndjson

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
