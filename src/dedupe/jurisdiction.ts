// Dedupe shards per jurisdiction: a routed source with a `jurisdiction` (FIREHOSE_ROUTES) has its
// keys kept by shard objects of that jurisdiction only. A shard request (one consumer batch's,
// or the outbox's) may hold keys of several sources: it is split by the jurisdiction of each
// entry's source, each part sent to that jurisdiction's object of the same shard number, and the
// answers put back together in request order. Pure: the split and the merge.

import type { Jurisdiction } from '../sources/routes';
import type { ShardAnswer, ShardRequest } from './ledger';

/** One jurisdiction's part of a request; `reserved`: its reserve entries' places in the whole. */
export interface RequestPart {
  jurisdiction: Jurisdiction | undefined;
  request: ShardRequest;
  reserved: number[];
}

/** The request split by the jurisdiction of each entry's source, in order within each part. */
export function splitByJurisdiction(
  request: ShardRequest,
  jurisdictionOf: (source: string) => Jurisdiction | undefined,
): RequestPart[] {
  const parts = new Map<Jurisdiction | undefined, RequestPart>();
  const part = (source: string): RequestPart => {
    const j = jurisdictionOf(source);
    let p = parts.get(j);
    if (p === undefined) {
      p = { jurisdiction: j, request: { commit: [], release: [], reserve: [] }, reserved: [] };
      parts.set(j, p);
    }
    return p;
  };
  for (const c of request.commit) part(c.source).request.commit.push(c);
  for (const c of request.copied ?? []) (part(c.source).request.copied ??= []).push(c);
  for (const r of request.release) part(r.source).request.release.push(r);
  request.reserve.forEach((r, i) => {
    const p = part(r.source);
    p.request.reserve.push(r);
    p.reserved.push(i);
  });
  return [...parts.values()];
}

/** The parts' answers as the whole request's: verdicts in request order, counts summed. */
export function mergeAnswers(
  request: ShardRequest,
  parts: readonly RequestPart[],
  answers: readonly ShardAnswer[],
): ShardAnswer {
  // One verdict per key, and a key is two words ([hi, lo]) of `keys`.
  const keysOf = (r: ShardRequest['reserve'][number]): number => r.keys.length / 2;
  const offsets: number[] = [];
  let total = 0;
  for (const r of request.reserve) {
    offsets.push(total);
    total += keysOf(r);
  }
  const verdicts = new Uint8Array(total);
  let keys = 0;
  let droppedEarly = 0;
  parts.forEach((p, n) => {
    const answer = answers[n];
    if (answer === undefined) return;
    keys += answer.keys;
    droppedEarly += answer.droppedEarly;
    let at = 0;
    p.request.reserve.forEach((r, k) => {
      const to = offsets[p.reserved[k] ?? 0] ?? 0;
      verdicts.set(answer.verdicts.subarray(at, at + keysOf(r)), to);
      at += keysOf(r);
    });
  });
  return { verdicts, keys, droppedEarly };
}
