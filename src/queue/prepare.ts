// What an events batch will send, once the dedupe shards have answered: per message, the lines
// still to deliver (duplicates dropped), the Firehose input and forward copy they make, or the
// decision already taken (undecodable, blocked events not archived, held back, a shard down,
// nothing left to send). Pure.

import type { GateResult as Reservation } from '../dedupe/gate';
import { messageSinks } from '../privacy/sinks';
import { utf8Length } from '../segment/utf8';
import type { Decision, DeliveryInput } from './delivery';
import type { DecodedMessage } from './message';
import type { CopyInput } from './pack';

/** What the consumer uses of a queue message (the runtime's Message; a plain object in the bench). */
export interface QueueMessage {
  readonly id: string;
  readonly timestamp: Date;
  readonly body: unknown;
  readonly attempts: number;
  ack(): void;
  retry(options?: { delaySeconds?: number }): void;
}

/** One message of a consumer batch, decoded, with its dedupe identity and reservation. */
export interface BatchMessage {
  raw: QueueMessage;
  decoded: DecodedMessage | undefined;
  lines: string[];
  ids: string[];
  /** Whose delivery: a replay's or requeued copy's token, else the queue message id. */
  token: string;
  /** This attempt: the queue message id and its attempt number, unique to it. */
  attempt: string;
  gate: Reservation | undefined;
}

export interface Prepared {
  /** Decisions taken so far, by message index (the rest come from the Firehose calls). */
  decisions: Map<number, Decision>;
  inputs: Map<number, DeliveryInput>;
  /**
   * Messages whose consent allows the forward copy only (src/privacy/sinks.ts): index → events.
   * They make no Firehose input; each is done once its copy is queued.
   */
  forwardOnly: Map<number, number>;
  /** Copies to queue for forwarding: the kept lines whose copy no earlier attempt queued. */
  copies: CopyInput[];
  /** Messages whose copies this attempt queued (filled by the sender). */
  copied: Set<number>;
  /** The lines each message still has to deliver, and their ids. */
  kept: Map<number, { lines: string[]; ids: string[] }>;
  deduplicated: Array<{ source: string; events: number }>;
}

/** The lines of a message its reservation keeps (all without deduplication). */
export function keptLines(m: BatchMessage): { lines: string[]; ids: string[] } {
  const gate = m.gate;
  if (gate === undefined) return { lines: m.lines, ids: m.ids };
  return {
    lines: m.lines.filter((_l, i) => gate.keep[i] === true),
    ids: m.ids.filter((_id, i) => gate.keep[i] === true),
  };
}

/** The decision a message gets before any call, if its body, blocked events or reservation do. */
function gateDecision(m: BatchMessage, blockedUnarchived: boolean): Decision | undefined {
  if (m.decoded === undefined) return { kind: 'dead', reason: 'undecodable_message' };
  if (blockedUnarchived)
    return { kind: 'retry', code: 'ArchiveUnavailable', cause: 'archive_unavailable' };
  if (m.gate?.unavailable === true)
    return { kind: 'retry', code: 'DedupeUnavailable', cause: 'dedupe_unavailable' };
  if (m.gate?.held === true) return { kind: 'retry', code: 'HeldForDuplicate', cause: 'held' };
  return undefined;
}

/**
 * `notArchived`: the messages whose blocked events (src/archive/blocked.ts) could not be
 * archived; they send nothing this attempt.
 */
export function prepareBatch(
  messages: readonly BatchMessage[],
  notArchived: ReadonlySet<number> = new Set(),
): Prepared {
  const prepared: Prepared = {
    decisions: new Map(),
    inputs: new Map(),
    forwardOnly: new Map(),
    copies: [],
    copied: new Set(),
    kept: new Map(),
    deduplicated: [],
  };
  const dedupedBySource = new Map<string, number>();
  messages.forEach((m, index) => {
    const kept = keptLines(m);
    prepared.kept.set(index, kept);
    const early = gateDecision(m, notArchived.has(index));
    if (early !== undefined || m.decoded === undefined) {
      if (early !== undefined) prepared.decisions.set(index, early);
      return;
    }
    const { source, receivedAt } = m.decoded.header;
    const duplicates = m.gate?.duplicates ?? 0;
    if (duplicates > 0)
      dedupedBySource.set(source, (dedupedBySource.get(source) ?? 0) + duplicates);
    // Every event of it was delivered already: nothing to send.
    if (kept.lines.length === 0) {
      prepared.decisions.set(index, { kind: 'ack', stream: '' });
      return;
    }
    const ndjson =
      kept.lines.length === m.lines.length
        ? m.decoded.ndjson
        : kept.lines.map((l) => `${l}\n`).join('');
    const events = kept.lines.length;
    // Consent (docs/privacy.md): a message whose header restricts its sinks goes only there.
    const sinks = messageSinks(m.decoded.header.sinks);
    if (sinks.firehose)
      prepared.inputs.set(index, { index, source, ndjson, bytes: utf8Length(ndjson), events });
    else prepared.forwardOnly.set(index, events);
    const copy = sinks.forward ? uncopied(m, { ndjson, ids: kept.ids }) : undefined;
    if (copy !== undefined) prepared.copies.push({ index, source, receivedAt, ...copy });
  });
  prepared.deduplicated = [...dedupedBySource].map(([source, events]) => ({ source, events }));
  return prepared;
}

/**
 * The kept lines (given as NDJSON) whose forward copy no earlier attempt queued (ledger.ts,
 * SEND_COPIED); undefined when every one's is.
 */
function uncopied(
  m: BatchMessage,
  kept: { ndjson: string; ids: string[] },
): { ndjson: string; ids: string[] } | undefined {
  const gate = m.gate;
  if (gate === undefined || !gate.copied.includes(true)) return kept;
  const lines = m.lines.filter((_l, i) => gate.keep[i] === true && gate.copied[i] !== true);
  if (lines.length === 0) return undefined;
  const ids = m.ids.filter((_id, i) => gate.keep[i] === true && gate.copied[i] !== true);
  return { ndjson: lines.map((l) => `${l}\n`).join(''), ids };
}
