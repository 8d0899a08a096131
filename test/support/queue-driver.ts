// An events queue as Queues runs it, round by round, around the real delivery consumer: each
// round hands every pending message to deliverBatch; an acked message leaves; a retried one
// comes back with one more attempt, unless it was on its last (Queues would then move it to
// the dead-letter queue itself: counted, so a test can prove it never happens); a fresh copy
// the consumer requeued joins as a new message. Retry delays are recorded, not waited out.
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { vi } from 'vitest';
import type { DedupeSettings, Outbox } from '../../src/dedupe/client';
import type { Env } from '../../src/env';
import { deliverBatch, type ConsumerDeps } from '../../src/queue/consumer';
import type { DeliveryReport } from '../../src/metrics/record';
import { recordingQueue, type RecordingQueue } from './worker';

interface Pending {
  id: string;
  body: string;
  attempts: number;
  timestamp: Date;
}

export class QueueDriver {
  pending: Pending[] = [];
  /** The dead-letter queue the consumer sends to. */
  readonly dlq: RecordingQueue = recordingQueue();
  /** The events queue's producer binding: the consumer's fresh copies land here. */
  readonly events: RecordingQueue = recordingQueue();
  /** Messages retried on their last attempt, which Queues would move to the DLQ itself. */
  movedByQueues = 0;
  /** Fresh copies the consumer requeued. */
  requeued = 0;
  /** Every retry delay asked for, in seconds. */
  readonly delays: number[] = [];
  readonly reports: DeliveryReport[] = [];
  #ids = 0;
  #copiesSeen = 0;

  constructor(
    readonly maxAttempts: number,
    readonly now: () => number,
  ) {}

  send(body: string): void {
    this.pending.push({
      id: `q${this.#ids++}`,
      body,
      attempts: 1,
      timestamp: new Date(this.now()),
    });
  }

  /** One consumer invocation over everything pending. */
  async round(
    env: Env,
    deps: ConsumerDeps,
    dedupe?: { settings: DedupeSettings; outbox: Outbox },
  ): Promise<DeliveryReport> {
    const batch = createMessageBatch<unknown>('ndc-segment-events', this.pending);
    for (const m of batch.messages) {
      const retry = m.retry.bind(m);
      vi.spyOn(m, 'retry').mockImplementation((options) => {
        this.delays.push(options?.delaySeconds ?? 0);
        retry(options);
      });
    }
    const ctx = createExecutionContext();
    const testEnv: Env = {
      ...env,
      DLQ: this.dlq.queue,
      EVENTS: this.events.queue,
    };
    const report = await deliverBatch(
      batch,
      testEnv,
      { ...deps, maxAttempts: this.maxAttempts },
      dedupe?.settings,
      dedupe?.outbox,
    );
    this.reports.push(report);
    const result = await getQueueResult(batch, ctx);
    const acked = new Set(result.explicitAcks);
    const retried = new Set(result.retryMessages.map((r) => r.msgId));
    const next: Pending[] = [];
    for (const m of this.pending) {
      if (acked.has(m.id)) continue;
      if (!retried.has(m.id)) throw new Error(`message ${m.id} was neither acked nor retried`);
      if (m.attempts >= this.maxAttempts) this.movedByQueues += 1;
      else next.push({ ...m, attempts: m.attempts + 1 });
    }
    const copies = this.events.calls.flat().slice(this.#copiesSeen);
    this.#copiesSeen += copies.length;
    for (const body of copies) {
      this.requeued += 1;
      next.push({ id: `q${this.#ids++}`, body, attempts: 1, timestamp: new Date(this.now()) });
    }
    this.pending = next;
    return report;
  }

  /** Events held back now, by the consumer's own count (entered less left, all reasons). */
  waitingEvents(): number {
    let n = 0;
    for (const r of this.reports) {
      for (const w of r.waiting ?? []) {
        if (w.kind === 'entered') n += w.events;
        if (w.kind === 'left') n -= w.events;
      }
    }
    return n;
  }
}
