// Workers Analytics Engine data points: one per ingest request and one per consumer batch,
// never more than the platform's 25 per invocation. Adapter; the binding is optional.

// Workers Analytics Engine limits: "Maximum data points per Worker invocation: 25".
export const ANALYTICS_MAX_WRITES_PER_INVOCATION = 25;

/** The columns, in order (README "Observability" documents the SQL names). */
export interface IngestPoint {
  kind: 'ingest';
  route: string;
  status: number;
  source: string;
  /** Event types in the request, comma-separated in first-seen order ("track,page"). */
  types: string;
  events: number;
  bytes: number;
  latencyMs: number;
}

export interface DeliveryPoint {
  kind: 'delivery';
  stream: string;
  outcome: string;
  events: number;
  bytes: number;
  /** Mean receivedAt → accepted latency of the delivered events. */
  latencyMs: number;
}

export type Point = IngestPoint | DeliveryPoint;

export function toDataPoint(p: Point): AnalyticsEngineDataPoint {
  if (p.kind === 'ingest') {
    return {
      indexes: [p.source],
      blobs: ['ingest', p.route, String(p.status), p.source, p.types],
      doubles: [p.events, p.bytes, p.latencyMs],
    };
  }
  return {
    indexes: [p.stream],
    blobs: ['delivery', p.stream, p.outcome, '', ''],
    doubles: [p.events, p.bytes, p.latencyMs],
  };
}

/** One per invocation: writes until the cap, then counts what it dropped. */
export class AnalyticsWriter {
  readonly #dataset: AnalyticsEngineDataset | undefined;
  written = 0;
  dropped = 0;

  constructor(dataset: AnalyticsEngineDataset | undefined) {
    this.#dataset = dataset;
  }

  write(point: Point): void {
    if (this.#dataset === undefined) return;
    if (this.written >= ANALYTICS_MAX_WRITES_PER_INVOCATION) {
      this.dropped += 1;
      return;
    }
    try {
      this.#dataset.writeDataPoint(toDataPoint(point));
      this.written += 1;
    } catch (e) {
      // Analytics must never fail ingest or delivery.
      console.error('analytics write failed', e instanceof Error ? e.message : String(e));
    }
  }
}
