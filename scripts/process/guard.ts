// A guard process: `node --import tsx scripts/process/guard.ts <graceMs> <command> [args…]`.
// Runs the command in a process group of its own and ends that whole group (SIGTERM, then
// SIGKILL after graceMs) when the guard is asked to stop (SIGTERM, SIGINT, SIGHUP) or when its
// stdin closes. The parent holds the other end of stdin, so the group also ends when the parent
// dies abruptly (SIGKILL, a crash): the kernel closes the pipe, which no signal handler can
// miss. The guard exits with the command's status once the group is gone.
//
// wrangler dev is such a command: its bin starts a second node, which starts workerd twice and
// esbuild. Signalling only the process we spawned is not enough: wrangler's bin forwards one
// SIGTERM to its child and exits, and a workerd whose wrangler was killed keeps serving and
// ignores SIGTERM (seen with wrangler 4.86), hence the SIGKILL after the grace.
// spawn-guarded.ts is the parent's side.

import { spawn } from 'node:child_process';
import { constants } from 'node:os';

const [graceArg, command, ...args] = process.argv.slice(2);
const graceMs = Number(graceArg);
if (command === undefined || !Number.isInteger(graceMs) || graceMs < 0) {
  process.stderr.write('usage: guard.ts <graceMs> <command> [args...]\n');
  process.exit(2);
}

const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
const group = child.pid;

/** Signals the command's whole group; false once the group is gone. */
function signalGroup(signal: NodeJS.Signals): boolean {
  if (group === undefined) return false;
  try {
    process.kill(-group, signal);
    return true;
  } catch {
    return false;
  }
}

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  if (signalGroup('SIGTERM')) setTimeout(() => signalGroup('SIGKILL'), graceMs).unref();
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
// The parent may be gone, and with it the read end of inherited pipes: never die of EPIPE.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

child.on('error', (error) => {
  process.stderr.write(`guard: cannot run ${command}: ${error.message}\n`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  // Whatever the command left behind in its group (workerd outlives wrangler) goes too.
  signalGroup('SIGKILL');
  // A shell's convention for a command a signal ended: 128 + the signal's number.
  process.exit(code ?? (signal === null ? 1 : 128 + constants.signals[signal]));
});
