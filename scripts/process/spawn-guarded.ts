// The parent's side of guard.ts: runs a command under a guard process, so the command and
// everything it starts end together, when asked (stop) or when this process dies, however.

import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const GUARD = fileURLToPath(new URL('./guard.ts', import.meta.url));
// tsx's loader by absolute URL, so the guard starts whatever the caller's working directory.
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

// Ours: past the guard's grace (SIGTERM, then SIGKILL to the group), allow this long for the
// guard itself to exit before it is killed too.
const GUARD_EXIT_MARGIN_MS = 1_000;

export interface GuardedOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Capture stdout and stderr (readable on `child`) instead of sharing this process's. */
  capture: boolean;
  /** How long the command's group has between SIGTERM and SIGKILL. */
  graceMs: number;
}

export interface Guarded {
  /** The guard process; the command's output comes out of its stdout and stderr. */
  child: ChildProcess;
  /** Resolves with the guard's exit code (the command's) once it has exited. */
  exited: Promise<number | null>;
  /** Ends the command's whole process group and waits for the guard to exit. */
  stop(): Promise<void>;
}

export function spawnGuarded(command: string, args: string[], options: GuardedOptions): Guarded {
  const child = spawn(
    process.execPath,
    ['--import', TSX_LOADER, GUARD, String(options.graceMs), command, ...args],
    {
      env: options.env,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      // stdin is the guard's lifeline: it stops the command when this end closes.
      stdio: ['pipe', options.capture ? 'pipe' : 'inherit', options.capture ? 'pipe' : 'inherit'],
    },
  );
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(null));
  });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin?.end();
      child.kill('SIGTERM');
      const deadline = options.graceMs + GUARD_EXIT_MARGIN_MS;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), deadline);
      });
      if ((await Promise.race([exited, late])) === 'late') {
        child.kill('SIGKILL');
        await exited;
      }
      clearTimeout(timer);
    })());
  return { child, exited, stop };
}
