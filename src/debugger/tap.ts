// The debugger's tap on the ingest path: the one call the ingest routes make after each request
// (`capture`), and the arming the debugger routes make (`arm`). Logic only: the clock, the
// lookup of the shared watch list and the sends to the sources' objects are injected.
//
// With nobody watching, `capture` costs one comparison (is a lookup due?) and one Map lookup
// (is the source watched?), no I/O. Once per DEBUGGER_WATCH_REFRESH_MS the request that finds
// the isolate's copy of the watch list due looks it up itself, in its own waitUntil (no request
// waits on another's I/O), and decides its own capture once the answer is in.

import type { MetricsBuffer } from '../metrics/buffer';
import { recordDebuggerCaptured } from '../metrics/record';
import { capturedEvents, tracedEvents, type IngestTrace } from './capture';
import { CaptureOutbox, type OutboxIo } from './outbox';
import { WatchState, type WatchList } from './watch';

export interface TapIo extends OutboxIo {
  /** The shared watch list: a data centre's cached copy, else the registry object's. */
  lookup(): Promise<WatchList>;
}

/** The part of an ExecutionContext the tap uses. */
export interface Invocation {
  waitUntil(promise: Promise<unknown>): void;
}

export class DebuggerTap {
  readonly watch = new WatchState();
  readonly outbox = new CaptureOutbox();
  readonly #now: () => number;
  readonly #metrics: MetricsBuffer | undefined;
  /** Lookups of the shared watch list this isolate made, and how many failed. */
  lookups = 0;
  failedLookups = 0;

  constructor(now: () => number, metrics?: MetricsBuffer) {
    this.#now = now;
    this.#metrics = metrics;
  }

  /**
   * After an ingest request: its events go to the debugger if its source is watched. `io` is
   * called only when there is I/O to do.
   */
  capture(trace: IngestTrace, invocation: Invocation, io: () => TapIo): void {
    const source = trace.source;
    if (source === undefined) return;
    const now = this.#now();
    if (this.watch.claimLookup(now)) {
      const tapIo = io();
      invocation.waitUntil(
        this.#lookup(tapIo).then(() =>
          this.watch.isWatched(source, this.#now()) ? this.#take(source, trace, tapIo) : undefined,
        ),
      );
      return;
    }
    if (!this.watch.isWatched(source, now)) return;
    const pending = this.#take(source, trace, io());
    if (pending !== undefined) invocation.waitUntil(pending);
  }

  /** An arming made in this isolate (a page or API read): effective here at once. */
  arm(source: string, until: number): void {
    this.watch.arm(source, until);
  }

  async #lookup(io: TapIo): Promise<void> {
    this.lookups += 1;
    let list: WatchList | undefined;
    try {
      list = await io.lookup();
    } catch (e) {
      this.failedLookups += 1;
      console.error('debugger watch lookup failed', e instanceof Error ? e.message : String(e));
    }
    this.watch.looked(list, this.#now());
  }

  /** Samples, builds and buffers the trace's events; the send to arm, if one is due. */
  #take(source: string, trace: IngestTrace, io: TapIo): Promise<void> | undefined {
    const n = tracedEvents(trace);
    const take = this.outbox.admit(source, n, this.#now());
    const events = capturedEvents(trace, take);
    this.outbox.add(source, events);
    if (this.#metrics !== undefined) {
      const accepted = events.filter((e) => e.status === 'accepted').length;
      recordDebuggerCaptured(this.#metrics, accepted, events.length - accepted, n - take);
    }
    return this.outbox.schedule(source, io);
  }
}
