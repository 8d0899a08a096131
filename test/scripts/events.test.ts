// `npm run events`: which delivered events it prints (scripts/events/select.ts), and the command
// itself on a data directory holding two sessions' files.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  eventTimeMs,
  fileStartMs,
  inSession,
  messageIdsOf,
  parseEventsArgs,
  parseSince,
  selectForwarded,
  selectLines,
} from '../../scripts/events/select';
import { deliveryPath, instanceTag } from '../../scripts/local-firehose/sink';

const ROOT = join(import.meta.dirname, '../..');
const NOW = Date.parse('2026-12-07T10:00:00.000Z');
const event = (receivedAt: string, name = 'E'): string =>
  JSON.stringify({ type: 'track', event: name, receivedAt });

describe('parseSince', () => {
  it.each([
    ['30s', NOW - 30_000],
    ['5m', NOW - 300_000],
    ['2h', NOW - 7_200_000],
    ['1796637600', 1_796_637_600_000],
    ['1796637600123', 1_796_637_600_123],
    ['2026-12-07T09:59:00Z', NOW - 60_000],
  ])('reads %s', (value, expected) => {
    expect(parseSince(value, NOW)).toEqual({ ok: true, value: expected });
  });

  it('names the value it cannot read', () => {
    const r = parseSince('yesterday', NOW);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain('--since yesterday');
  });
});

describe('parseEventsArgs', () => {
  it('defaults to every event of the session, no wait', () => {
    expect(parseEventsArgs([], NOW)).toEqual({
      ok: true,
      value: { sinceMs: undefined, wait: 0, timeoutMs: 30_000, follow: false, forwarded: false },
    });
  });

  it('takes every flag', () => {
    const r = parseEventsArgs(
      ['--since', '10s', '--wait', '3', '--timeout', '5', '--follow', '--forwarded'],
      NOW,
    );
    expect(r).toEqual({
      ok: true,
      value: { sinceMs: NOW - 10_000, wait: 3, timeoutMs: 5_000, follow: true, forwarded: true },
    });
  });

  it.each([['--wait', '0'], ['--wait', 'x'], ['--timeout'], ['--nope']])(
    'refuses %s %s',
    (...argv) => {
      expect(parseEventsArgs(argv, NOW).ok).toBe(false);
    },
  );
});

describe('session files', () => {
  const tag = instanceTag(new Date('2026-12-07T09:30:05.900Z'), 4242, 'a1b2c3');
  const file = deliveryPath('/d', 'ndc-segment', new Date(NOW), tag);

  it('reads the endpoint start from a delivered file name', () => {
    expect(fileStartMs(file)).toBe(Date.parse('2026-12-07T09:30:05Z'));
    expect(fileStartMs('/d/other.ndjson')).toBeUndefined();
  });

  it('keeps files of endpoints started in or after the session, never before', () => {
    expect(inSession(file, Date.parse('2026-12-07T09:30:05.400Z'))).toBe(true);
    expect(inSession(file, Date.parse('2026-12-07T09:29:00Z'))).toBe(true);
    expect(inSession(file, Date.parse('2026-12-07T09:30:06Z'))).toBe(false);
  });
});

describe('selectLines', () => {
  const text = `${event('2026-12-07T09:59:58Z', 'old')}\n${event('2026-12-07T10:00:01Z', 'new')}\n`;

  it('keeps every line without --since, and those received from --since on with it', () => {
    expect(selectLines(text, undefined)).toHaveLength(2);
    expect(selectLines(text, NOW).map((l) => (JSON.parse(l) as { event: string }).event)).toEqual([
      'new',
    ]);
  });

  it('keeps the forwarded copies of delivered events that passed --since, by messageId', () => {
    const copies = [{ messageId: 'a' }, { messageId: 'b' }, {}].map((e) => JSON.stringify(e));
    const text = copies.join('\n');
    expect(selectForwarded(text, undefined)).toEqual(copies);
    expect(selectForwarded(text, messageIdsOf([JSON.stringify({ messageId: 'b' })]))).toEqual([
      copies[1],
    ]);
    expect(eventTimeMs(JSON.stringify({ timestamp: '2026-12-07T10:00:00Z' }))).toBeUndefined();
    expect(eventTimeMs('not json')).toBeUndefined();
  });
});

// Ours: each run starts node with tsx (~1 s here, several on a loaded machine).
describe('npm run events', { timeout: 60_000 }, () => {
  let dataDir = '';
  afterEach(async () => {
    if (dataDir !== '') await rm(dataDir, { recursive: true, force: true });
  });

  async function write(startedAt: string, lines: string[]): Promise<void> {
    const tag = instanceTag(new Date(startedAt), 1, 'abcdef');
    const file = deliveryPath(join(dataDir, 'firehose'), 'ndc-segment', new Date(startedAt), tag);
    await mkdir(join(file, '..'), { recursive: true });
    await writeFile(file, lines.map((l) => `${l}\n`).join(''));
  }

  const run = (...args: string[]) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/events.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: dataDir },
    });

  it("prints only this session's events, and fails naming the count when --wait runs out", async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ndc-events-'));
    await write('2026-12-06T08:00:00Z', [event('2026-12-06T08:00:01Z', 'earlier session')]);
    await write('2026-12-07T09:00:00Z', [
      event('2026-12-07T09:00:01Z', 'first'),
      event('2026-12-07T09:00:02Z', 'second'),
    ]);
    await writeFile(
      join(dataDir, 'session.json'),
      JSON.stringify({ startedAt: '2026-12-07T08:59:59Z' }),
    );

    const all = await run();
    expect(
      all.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { event: string }).event),
    ).toEqual(['first', 'second']);
    const since = await run('--since', '2026-12-07T09:00:02Z', '--wait', '1');
    expect(since.stdout).toBe(`${event('2026-12-07T09:00:02Z', 'second')}\n`);
    await expect(run('--wait', '3', '--timeout', '1')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('waited 1 s for 3 events; 2 landed') as unknown,
    });
  });

  it('says to run npm start first when there is no session', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ndc-events-'));
    await expect(run()).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('run npm start first') as unknown,
    });
  });
});
