// What the routes get from outside: the clock and id maker the pure core takes (tests pass
// fixed ones), and where metrics go. Also the Hono environment type every route shares.

import { isolateTap } from '../debugger/isolate';
import type { DebuggerTap } from '../debugger/tap';
import type { Env } from '../env';
import type { MetricsBuffer } from '../metrics/buffer';
import { isolateBuffer, scheduleFlush } from '../metrics/isolate';
import { isolatePlans, type PlanCache } from '../plans/cache';
import { isolatePrivacy, type PrivacyCache } from '../privacy/cache';
import type { Role } from './roles';

export interface AppDeps {
  /** Server clock, ms since the epoch. */
  now: () => number;
  /** A fresh messageId for events that lack one. */
  newId: () => string;
  /** Uniform in [0, 1): which events queue a request goes to. */
  random: () => number;
  /** Where requests record their metrics. */
  metrics: MetricsBuffer;
  /** Called once per request, after the response: arms the metrics flush. */
  afterRequest: (env: Env, ctx: ExecutionContext) => void;
  /** The isolate's tracking plans (src/plans/cache.ts). */
  plans: PlanCache;
  /** The isolate's privacy policies and suppressed ids (src/privacy/cache.ts). */
  privacy: PrivacyCache;
  /** The debugger's tap ingest requests go through (src/debugger/tap.ts); undefined: none. */
  tap: DebuggerTap | undefined;
}

export const runtimeDeps: AppDeps = {
  now: () => Date.now(),
  newId: () => crypto.randomUUID(),
  random: () => Math.random(),
  metrics: isolateBuffer,
  afterRequest: scheduleFlush,
  plans: isolatePlans,
  privacy: isolatePrivacy,
  tap: isolateTap,
};

export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** `cors` admitted the request's origin: its preflight is answered (src/routes/cors.ts). */
    corsAdmitted?: boolean;
    /** The role the request's token was granted (src/routes/roles.ts). */
    role?: Role;
  };
}
