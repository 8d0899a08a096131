// What one events batch did, for metrics and logs (src/metrics/record.ts): the Firehose calls
// and what landed, and each message's step (retried, requeued, dead-lettered) with what it
// changed in the events held back. Pure.

import type { CallOutcome } from '../firehose/codec';
import type { CallLabel, DeliveryReport } from '../metrics/record';
import type { WaitReason } from '../metrics/waiting';
import type { Decision, SentCall } from './delivery';
import type { BatchMessage, Prepared } from './prepare';
import { waitingChanges, type Step } from './step';

export function emptyReport(deduplicated: DeliveryReport['deduplicated']): DeliveryReport {
  return {
    calls: [],
    delivered: [],
    failed: [],
    retriedEvents: 0,
    deadLetteredEvents: 0,
    deadLetterSendFailures: 0,
    deduplicated,
    ambiguousEvents: 0,
    authFailure: false,
    waiting: [],
    requeued: [],
  };
}

function callLabel(outcome: CallOutcome): CallLabel {
  if (outcome.kind !== 'records') return outcome.kind;
  return outcome.records.every((r) => r.ok) ? 'ok' : 'partial';
}

export function reportCalls(
  report: DeliveryReport,
  sent: readonly SentCall[],
  messages: readonly BatchMessage[],
): void {
  for (const { call, outcome } of sent) {
    const entry: DeliveryReport['calls'][number] = {
      stream: call.stream,
      outcome: callLabel(outcome),
      records: call.records.length,
    };
    if (outcome.kind !== 'records') entry.code = outcome.code;
    if (outcome.kind === 'retry' && outcome.cause === 'auth') report.authFailure = true;
    report.calls.push(entry);
    const landed =
      outcome.kind === 'records'
        ? call.records.filter((_r, r) => outcome.records[r]?.ok === true)
        : [];
    const sentEvents = call.records.reduce((n, r) => n + r.events, 0);
    const delivered = landed.reduce((n, r) => n + r.events, 0);
    if (sentEvents > delivered)
      report.failed.push({ stream: call.stream, events: sentEvents - delivered });
    if (landed.length === 0) continue;
    report.delivered.push({
      stream: call.stream,
      events: delivered,
      records: landed.length,
      bytes: landed.reduce((n, r) => n + r.bytes, 0),
      received: landed.flatMap((r) =>
        r.messages.map((index) => {
          const m = messages[index];
          const events =
            m?.gate === undefined ? (m?.lines.length ?? 0) : m.gate.keep.filter(Boolean).length;
          const source = m?.decoded?.header.source ?? '';
          return { at: m?.decoded?.header.receivedAt ?? 0, events, source };
        }),
      ),
    });
  }
}

/** Adds dead-lettered events to their source's count (the status page's series). */
function countBySource(report: DeliveryReport, source: string | undefined, events: number): void {
  if (source === undefined) return;
  const list = (report.deadLetteredBySource ??= []);
  const entry = list.find((e) => e.source === source);
  if (entry === undefined) list.push({ source, events });
  else entry.events += events;
}

/** One batch's messages and what became of each. */
export interface StepRun {
  messages: readonly BatchMessage[];
  prepared: Prepared;
  /** Each message's step, after a failed requeue's fallback. */
  steps: readonly Step[];
  /** Messages whose dead letter could not be sent (retried instead). */
  deadLetterFailed: ReadonlySet<number>;
}

/** Adds each message's step to the report: retried, requeued, dead-lettered, waiting. */
export function reportSteps(report: DeliveryReport, run: StepRun): void {
  const requeued = new Map<WaitReason, number>();
  run.messages.forEach((m, index) => {
    const step = run.steps[index];
    const decision: Decision = run.prepared.decisions.get(index) ?? {
      kind: 'retry',
      code: 'Undecided',
      cause: 'ambiguous',
    };
    if (step === undefined) return;
    const events = run.prepared.inputs.get(index)?.events ?? m.lines.length;
    const keptEvents = run.prepared.kept.get(index)?.lines.length ?? 0;
    const unsent = step.kind === 'dead' && run.deadLetterFailed.has(index);
    if (unsent) report.deadLetterSendFailures += events;
    else if (step.kind === 'dead') {
      const dead = m.decoded === undefined ? 1 : m.lines.length;
      report.deadLetteredEvents += dead;
      countBySource(report, m.decoded?.header.source, dead);
    }
    if (step.kind === 'retry') {
      report.retriedEvents += events;
      if (decision.kind === 'retry' && decision.cause === 'ambiguous')
        report.ambiguousEvents += events;
    }
    if (step.kind === 'requeue')
      requeued.set(step.wait, (requeued.get(step.wait) ?? 0) + keptEvents);
    const header = m.decoded?.header;
    if (header === undefined) return;
    const effective: Step = unsent ? { kind: 'retry', delaySeconds: 0 } : step;
    for (const change of waitingChanges(header.wait, decision, effective)) {
      report.waiting?.push({
        ...change,
        queuedAt: header.queuedAt ?? m.raw.timestamp.getTime(),
        events: change.kind === 'entered' ? keptEvents : m.lines.length,
      });
    }
  });
  report.requeued = [...requeued].map(([reason, events]) => ({ reason, events }));
}
