// The docs' shell blocks work when pasted whole into a terminal beside `npm start`: every block
// marked `<!-- docs-test: name -->` in README.md and docs/ (test/support/doc-blocks.ts) runs in
// bash against the real `npm start`, and prints what the docs show. First on a fresh data
// directory (the quick start), then again on the same one with that session's files left
// behind. The one change from pasting: `localhost:8787` becomes the port this test picked.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/stack';
import { docBlocks, outputMismatch, type DocBlock } from '../support/doc-blocks';

const ROOT = join(import.meta.dirname, '../..');
// Ours: npm start answers in ~3 s here; a loaded machine may take several times that.
const START_TIMEOUT_MS = 90_000;
// A reader pastes blocks seconds apart; `T=$(date +%s)` has whole seconds, so a block that
// starts in the same second as the last one's events would see them.
const BETWEEN_BLOCKS_MS = 1_100;
// What the docs' sessions assume of npm start: README "Tracking plans" (ADMIN_TOKEN=dev),
// docs/forwarding.md "Locally" (FORWARD_WRITE_KEYS=ndc-demo=dest-key).
const SESSION_ENV = { ADMIN_TOKEN: 'dev', FORWARD_WRITE_KEYS: 'ndc-demo=dest-key' };

async function allBlocks(): Promise<DocBlock[]> {
  const files = [
    'README.md',
    ...(await readdir(join(ROOT, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
  ];
  const blocks: DocBlock[] = [];
  for (const file of files)
    blocks.push(...docBlocks(file, await readFile(join(ROOT, file), 'utf8')));
  return blocks;
}

/** The README's plan (its first JSON block under "Tracking plans"), saved as plan.json. */
async function readmePlan(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Tracking plans'));
  const plan = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
  if (plan === undefined) throw new Error('README "Tracking plans" has no JSON block');
  return `${plan}\n`;
}

interface Session {
  port: number;
  stop(): Promise<void>;
}

async function npmStart(dataDir: string): Promise<Session> {
  const port = await freePort();
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn('npm', ['start'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...SESSION_ENV,
      PORT: String(port),
      FIREHOSE_PORT: String(await freePort()),
      SEGMENT_PORT: String(await freePort()),
      DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`npm start: no banner\n${output}`)),
      START_TIMEOUT_MS,
    );
    const read = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('ndc-segment is running')) {
        clearTimeout(timer);
        ready();
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    void exited.then((code) => fail(new Error(`npm start exited with ${code}\n${output}`)));
  });
  return {
    port,
    async stop() {
      child.kill('SIGINT');
      await exited;
    },
  };
}

/** Runs one block in bash, in `cwd`, and answers what it printed on stdout, by line. */
function paste(script: string, cwd: string, dataDir: string, port: number): Promise<string[]> {
  const child = spawn('bash', ['-c', script.replaceAll('localhost:8787', `localhost:${port}`)], {
    cwd,
    env: { ...process.env, DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((ok, fail) => {
    child.on('error', fail);
    child.on('exit', (code) => {
      const lines = stdout.split('\n');
      if (lines.at(-1) === '') lines.pop();
      if (code !== 0) fail(new Error(`exit ${code}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
      else ok(lines);
    });
  });
}

/** Runs the blocks of one name in turn in one shell session, checking each block's output. */
async function runGuide(blocks: DocBlock[], cwd: string, dataDir: string, port: number) {
  // One shell for the guide: each block's output is cut from the whole by a marker line.
  const MARK = '@@ndc-docs-block-end@@';
  const script = blocks.map((b) => `${b.script}\necho ${MARK}`).join('\n');
  const printed = await paste(script, cwd, dataDir, port);
  const perBlock: string[][] = [[]];
  for (const line of printed) {
    if (line === MARK) perBlock.push([]);
    else perBlock.at(-1)?.push(line);
  }
  blocks.forEach((block, i) => {
    const mismatch = outputMismatch(block.expected, perBlock[i] ?? []);
    expect(mismatch, `${block.file} "${block.name}" block ${i + 1}: ${mismatch ?? ''}`).toBe(
      undefined,
    );
  });
}

describe('the docs, pasted beside npm start', () => {
  let dataDir = '';
  let cwd = '';
  let blocks: DocBlock[] = [];
  const named = (name: string): DocBlock[] => blocks.filter((b) => b.name === name);

  beforeAll(async () => {
    blocks = await allBlocks();
    dataDir = await mkdtemp(join(tmpdir(), 'ndc-docs-data-'));
    // A reader's working directory: the repository (npm run finds it from below), with
    // track.json, and plan.json once the README says to save it.
    await mkdir(join(ROOT, '.data'), { recursive: true });
    cwd = await mkdtemp(join(ROOT, '.data', 'docs-test-'));
    await cp(join(ROOT, 'track.json'), join(cwd, 'track.json'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    if (cwd !== '') await rm(cwd, { recursive: true, force: true });
  });

  it('marks the blocks this test runs', () => {
    expect(blocks.map((b) => b.name)).toEqual(
      expect.arrayContaining(['quick-start', 'tracking-plans', 'forwarding', 'debugger-ci']),
    );
    // A guide may set up in a block that prints nothing, but it must check something.
    for (const name of new Set(blocks.map((b) => b.name))) {
      expect(named(name).flatMap((b) => b.expected).length, name).toBeGreaterThan(0);
    }
  });

  it('runs the quick start on a fresh data directory', async () => {
    const session = await npmStart(dataDir);
    try {
      await runGuide(named('quick-start'), cwd, dataDir, session.port);
    } finally {
      await session.stop();
    }
  });

  it("runs every guide again on the same data directory, showing only this session's events", async () => {
    const session = await npmStart(dataDir);
    try {
      await writeFile(join(cwd, 'plan.json'), await readmePlan());
      const order = [...new Set(blocks.map((b) => b.name))];
      for (const name of order) {
        await runGuide(named(name), cwd, dataDir, session.port);
        await new Promise((ok) => setTimeout(ok, BETWEEN_BLOCKS_MS));
      }
    } finally {
      await session.stop();
    }
  });
});
