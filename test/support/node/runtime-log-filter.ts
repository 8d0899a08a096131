// Vitest global setup (Node) for the workers project: drops the three lines workerd logs when a
// test connects to a closed port, or has its connection dropped, on purpose, and nothing else.
//
// test/queue/consumer.worker.test.ts ("retries on a network error") points FIREHOSE_ENDPOINT at
// a port where nothing listens, to prove a refused connection becomes a retry. The Worker
// catches the failed fetch, but vitest-pool-workers runs workerd with `verbose: true` and
// prints its structured logs from this process with process.stdout.write, one message per
// write: workerd then reports the refused connect() and, for the same fetch, an "uncaught
// exception ... Network connection lost" although the rejection was caught (plain `wrangler
// dev` does not print them). The pool has no option for its log handler, so the lines are
// dropped here: the refused connect, then at most the two "Network connection lost" reports
// that follow it within a second. Any other runtime line, and a lost connection that does not
// follow a refused connect, still prints.

// A connection refused (consumer.worker.test.ts, the Firehose endpoint's closed port), or one the
// peer dropped unanswered (forward-consumer.worker.test.ts, the local Segment endpoint's `down`
// fault: "disconnected prematurely", or "reset by peer" when the close races the request's
// body): each then gets the same two "Network connection lost" follow-ups.
const REFUSED =
  /^exception = kj\/async-io(-unix)?\.c\+\+:\d+: disconnected: (connect\(\): Connection refused|stream disconnected prematurely|::read\(fd, buffer, maxBytes\): Connection reset by peer)\n/;
const LOST =
  /^uncaught exception; (source = Uncaught \(in promise\); stack = Error: Network connection lost\.\n$|exception = \S+: disconnected: jsg\.Error: Network connection lost\.\n)/;
// Ours: workerd writes the two follow-ups in the same millisecond as the refused connect.
const FOLLOW_UP_WINDOW_MS = 1_000;
const FOLLOW_UPS_PER_REFUSAL = 2;

/** Whether a chunk written to stdout or stderr is the refused-connect report or a follow-up. */
export function runtimeLogFilter(now: () => number = Date.now): (chunk: unknown) => boolean {
  let armedUntil = 0;
  let followUps = 0;
  return (chunk) => {
    if (typeof chunk !== 'string') return false;
    if (REFUSED.test(chunk)) {
      armedUntil = now() + FOLLOW_UP_WINDOW_MS;
      followUps = FOLLOW_UPS_PER_REFUSAL;
      return true;
    }
    if (followUps > 0 && now() <= armedUntil && LOST.test(chunk)) {
      followUps -= 1;
      return true;
    }
    return false;
  };
}

export default function setup(): () => void {
  const drop = runtimeLogFilter();
  const restores = [process.stdout, process.stderr].map((stream) => {
    const write = stream.write.bind(stream);
    stream.write = (chunk: unknown, ...rest: unknown[]): boolean =>
      drop(chunk) || (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    return () => {
      stream.write = write;
    };
  });
  return () => restores.forEach((restore) => restore());
}
