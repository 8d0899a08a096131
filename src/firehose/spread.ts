// Spreading one source's records over every stream it is given. Pure: the clock is a parameter.
//
// A Firehose stream takes 5 MiB/s, so a source given N streams must use all N: each consumer
// batch's records are dealt over the source's streams from a rotating turn (record r of a batch
// goes to stream (turn + r) mod N, and the turn moves on by the batch's record count), never by
// the source's name. A record still holds whole messages and lies in exactly one call, so each
// message goes out exactly once. A stream that throttled or failed transiently is left out for
// STREAM_STRAIN_SECONDS while another of the source's streams is not, so throttling on one
// stream moves the load (the retried messages included) to the others.

// Ours: how long a stream that throttled (ServiceUnavailableException, ThrottlingException,
// LimitExceededException, a 5xx or failed records) is passed over. Firehose's quotas are per
// second (AWS "Amazon Data Firehose Quota": 5 MiB/s, 2,000 calls/s, 500,000 records/s in the
// large regions), so a few seconds off lets the stream's bucket refill; a stream that keeps
// throttling is retried at most this often, and used whenever all of the source's streams are.
export const STREAM_STRAIN_SECONDS = 5;

/** Where one stream is: streams are named per region, so the pair names it. */
export const streamKey = (region: string, stream: string): string => `${region}/${stream}`;

/**
 * An isolate's memory of which streams throttled lately, and the turn its batches deal records
 * from. One per isolate (src/queue/deliver.ts); tests make their own.
 */
export class StreamSpread {
  private readonly strainedUntil = new Map<string, number>();
  private turn = 0;

  /** Notes that a stream throttled or failed transiently at `nowMs`. */
  strained(region: string, stream: string, nowMs: number): void {
    this.strainedUntil.set(streamKey(region, stream), nowMs + STREAM_STRAIN_SECONDS * 1000);
  }

  /** The streams to deal to: those not strained at `nowMs`, or all when every one is. */
  usable(region: string, streams: readonly string[], nowMs: number): readonly string[] {
    if (streams.length < 2) return streams;
    const fresh = streams.filter(
      (s) => (this.strainedUntil.get(streamKey(region, s)) ?? 0) <= nowMs,
    );
    return fresh.length === 0 ? streams : fresh;
  }

  /** The stream of each of `count` records: dealt from the turn, which moves on by `count`. */
  deal(streams: readonly string[], count: number): string[] {
    const out: string[] = [];
    if (streams.length === 0) return out;
    const start = this.turn;
    this.turn = (this.turn + count) % 1_000_000_007;
    for (let r = 0; r < count; r++) out.push(streams[(start + r) % streams.length] ?? '');
    return out;
  }
}
