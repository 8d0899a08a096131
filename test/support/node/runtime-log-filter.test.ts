// The workers project's runtime-log filter drops only what tests provoke on purpose: a refused or
// dropped connection's report and the two "Network connection lost" lines workerd adds after it.
import { describe, expect, it } from 'vitest';
import { runtimeLogFilter } from './runtime-log-filter';

const REFUSED =
  'exception = kj/async-io-unix.c++:1234: disconnected: connect(): Connection refused\nstack: …\n';
const DROPPED =
  'exception = kj/async-io.c++:60: disconnected: stream disconnected prematurely\nstack: …\n';
const RESET =
  'exception = kj/async-io-unix.c++:568: disconnected: ::read(fd, buffer, maxBytes): Connection reset by peer\nstack: …\n';
const LOST_PROMISE =
  'uncaught exception; source = Uncaught (in promise); stack = Error: Network connection lost.\n';
const LOST_JSG =
  'uncaught exception; exception = workerd/jsg/value.h:1480: disconnected: jsg.Error: Network connection lost.\nstack: …\n';

describe('runtimeLogFilter', () => {
  it.each([
    ['a refused connect', REFUSED],
    ['a connection the peer dropped', DROPPED],
    ['a connection the peer reset', RESET],
  ])('drops %s and its two follow-ups, and no third', (_name, first) => {
    const drop = runtimeLogFilter(() => 0);
    expect([first, LOST_PROMISE, LOST_JSG, LOST_PROMISE].map(drop)).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  it('keeps a lost connection that follows nothing, or follows too late', () => {
    let now = 0;
    const drop = runtimeLogFilter(() => now);
    expect(drop(LOST_PROMISE)).toBe(false);
    expect(drop(DROPPED)).toBe(true);
    now = 5_000;
    expect(drop(LOST_JSG)).toBe(false);
  });

  it('keeps every other line', () => {
    const drop = runtimeLogFilter(() => 0);
    expect(drop('console warning; message = something else\n')).toBe(false);
    expect(drop(Buffer.from(REFUSED))).toBe(false);
  });
});
