// The consumer's side of deduplication for one batch: which keys go to which shard, and what
// the shards' verdicts mean for each message. Pure: keys in, requests and verdicts out.
//
// A message is delivered without the lines whose key is a duplicate. A message with a line held
// back (another delivery of that key is in flight) is not delivered now at all but retried as a
// whole, so that a message is always sent whole or not at all and its retries stay its own.

import { shardOf, writeKey } from './keys';
import { DUPLICATE, HELD, SEND_COPIED, type ShardRequest } from './ledger';

export interface GateMessage {
  /** Index of the message in the consumer batch. */
  index: number;
  /** Whose delivery: the events' first queue message id (kept by retries, copies and replays). */
  token: string;
  /** This attempt of that delivery: unique to it. */
  attempt: string;
  source: string;
  /** The messageId of each line, in order. */
  ids: readonly string[];
}

interface Target {
  message: number;
  line: number;
}

export interface GatePlan {
  shards: number;
  /** Per message (by position in the input), the key of each line: [hi, lo] per line. */
  keys: Uint32Array[];
  /** Per message, whether each line repeats a messageId already seen earlier in the message. */
  repeats: boolean[][];
  /** Per shard: what to ask, and which line each verdict belongs to. */
  requests: Map<number, { reserve: ShardRequest['reserve']; targets: Target[] }>;
}

export function planGate(messages: readonly GateMessage[], shards: number): GatePlan {
  const keys: Uint32Array[] = [];
  const repeats: boolean[][] = [];
  // Per shard, per message (each message is one attempt of one delivery): its keys there.
  const pending = new Map<number, Map<number, { words: number[]; targets: Target[] }>>();
  messages.forEach((m, message) => {
    const words = new Uint32Array(m.ids.length * 2);
    const seen = new Set<string>();
    const repeat: boolean[] = [];
    m.ids.forEach((id, line) => {
      writeKey(m.source, id, words, line * 2);
      repeat.push(seen.has(id));
      seen.add(id);
      if (repeat[line] === true) return;
      const hi = words[line * 2] ?? 0;
      const shard = shardOf(hi, shards);
      let byMessage = pending.get(shard);
      if (byMessage === undefined) {
        byMessage = new Map();
        pending.set(shard, byMessage);
      }
      let entry = byMessage.get(message);
      if (entry === undefined) {
        entry = { words: [], targets: [] };
        byMessage.set(message, entry);
      }
      entry.words.push(hi, words[line * 2 + 1] ?? 0);
      entry.targets.push({ message, line });
    });
    keys.push(words);
    repeats.push(repeat);
  });
  const requests: GatePlan['requests'] = new Map();
  for (const [shard, byMessage] of pending) {
    const reserve: ShardRequest['reserve'] = [];
    const targets: Target[] = [];
    for (const [message, entry] of byMessage) {
      const m = messages[message] as GateMessage;
      const keys = Uint32Array.from(entry.words);
      reserve.push({ token: m.token, attempt: m.attempt, source: m.source, keys });
      targets.push(...entry.targets);
    }
    requests.set(shard, { reserve, targets });
  }
  return { shards, keys, repeats, requests };
}

export interface GateResult {
  /** Lines to deliver (false: a duplicate, dropped). */
  keep: boolean[];
  /** Lines whose forward copy is queued already: deliver them, queue no copy. */
  copied: boolean[];
  /** Hold the whole message back and retry it: a line is in flight elsewhere. */
  held: boolean;
  /** A shard it needed could not be asked: retry the whole message. */
  unavailable: boolean;
  /** Lines dropped as duplicates. */
  duplicates: number;
}

/** Each message's lines to keep, from the shards' verdicts (undefined: that shard failed). */
export function resolveGate(
  plan: GatePlan,
  verdicts: ReadonlyMap<number, Uint8Array | undefined>,
): GateResult[] {
  const results: GateResult[] = plan.repeats.map((repeat) => ({
    keep: repeat.map((r) => !r),
    copied: repeat.map(() => false),
    held: false,
    unavailable: false,
    duplicates: repeat.filter((r) => r).length,
  }));
  for (const [shard, request] of plan.requests) {
    const answer = verdicts.get(shard);
    request.targets.forEach(({ message, line }, k) => {
      const result = results[message];
      if (result === undefined) return;
      if (answer === undefined) {
        result.unavailable = true;
        return;
      }
      const verdict = answer[k];
      if (verdict === DUPLICATE) {
        result.keep[line] = false;
        result.duplicates += 1;
      } else if (verdict === HELD) {
        result.held = true;
      } else if (verdict === SEND_COPIED) {
        result.copied[line] = true;
      }
    });
  }
  return results;
}

/** The keys of the given lines of a message, grouped by shard. */
export function keysByShard(
  keys: Uint32Array,
  lines: readonly number[],
  shards: number,
): Map<number, Uint32Array> {
  const words = new Map<number, number[]>();
  for (const line of lines) {
    const hi = keys[line * 2] ?? 0;
    const shard = shardOf(hi, shards);
    let list = words.get(shard);
    if (list === undefined) {
      list = [];
      words.set(shard, list);
    }
    list.push(hi, keys[line * 2 + 1] ?? 0);
  }
  return new Map([...words].map(([shard, list]) => [shard, Uint32Array.from(list)]));
}
