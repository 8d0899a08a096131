// Workers Analytics Engine data points, aggregated: each metrics shard turns the counts it
// received over an interval into one point per source, one per delivery stream and one of
// totals (src/metrics/object.ts writes them from its alarm). Pure: a state in, points out.
//
// Analytics Engine bills per data point ($0.25 per million, PLATFORM.md): one point per request
// is ~1.5 billion points a month at 10,000 events/s. Aggregated, points grow with shards ×
// sources × intervals instead, whatever the traffic (docs/observability.md, "Workers Analytics Engine").

import type { MetricsState } from './state';
import { parseSeriesKey } from './series';
import { fnv64Hex } from '../fnv';

// Workers Analytics Engine limits: "Maximum data points per Worker invocation: 250" (it was 25).
export const ANALYTICS_MAX_POINTS_PER_INVOCATION = 250;

// Analytics Engine limits: "Maximum index size: 96 bytes" (a longer index throws) and blobs
// "16 KB total" per point. Blob values come from label values, at most 128 characters each.
export const ANALYTICS_INDEX_MAX_BYTES = 96;
export const ANALYTICS_BLOBS_MAX_BYTES = 16 * 1024;

const encoder = new TextEncoder();
const utf8Bytes = (text: string): number => encoder.encode(text).length;

/**
 * An index within ANALYTICS_INDEX_MAX_BYTES: the text itself when it fits, else as much of it as
 * fits before `#` and 16 hex digits of its hash (so two long names with one prefix stay apart).
 */
export function indexValue(text: string): string {
  if (utf8Bytes(text) <= ANALYTICS_INDEX_MAX_BYTES) return text;
  const suffix = `#${fnv64Hex(text)}`;
  const room = ANALYTICS_INDEX_MAX_BYTES - suffix.length;
  let prefix = '';
  for (const ch of text) {
    if (utf8Bytes(prefix + ch) > room) break;
    prefix += ch;
  }
  return prefix + suffix;
}

/** Blobs cut so together they stay within ANALYTICS_BLOBS_MAX_BYTES. */
function fitBlobs(blobs: string[]): string[] {
  let left = ANALYTICS_BLOBS_MAX_BYTES;
  return blobs.map((b) => {
    let out = b;
    while (utf8Bytes(out) > left) out = out.slice(0, Math.max(0, out.length - 64));
    left -= utf8Bytes(out);
    return out;
  });
}

const TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;

/** A point and the series of the interval state it accounts for. */
export interface IntervalPoint {
  point: AnalyticsEngineDataPoint;
  series: string[];
}

interface Group {
  doubles: number[];
  series: string[];
}

function group(map: Map<string, Group>, key: string, width: number): Group {
  let g = map.get(key);
  if (g === undefined) {
    g = { doubles: new Array<number>(width).fill(0), series: [] };
    map.set(key, g);
  }
  return g;
}

// Positions of the doubles; docs/observability.md documents each column.
const INGEST = { events: 0, deduplicated: 7 } as const;
const DELIVERY = { events: 0, records: 1, failed: 2, calls: 3 } as const;
const TOTALS: Record<string, number> = {
  ndc_segment_requests_total: 0,
  ndc_segment_events_rejected_total: 1,
  ndc_segment_request_bytes_total: 2,
  ndc_segment_events_retried_total: 3,
  ndc_segment_events_dead_lettered_total: 4,
  ndc_segment_events_archived_total: 5,
  ndc_segment_events_replayed_total: 6,
  ndc_segment_events_ambiguous_total: 7,
  ndc_segment_queue_messages_sent_total: 10,
};
const LATENCY_SUM = 8;
const LATENCY_COUNT = 9;

/** The interval's counts as points: one per source, one per stream, one of totals. */
export function intervalPoints(interval: MetricsState): IntervalPoint[] {
  const sources = new Map<string, Group>();
  const streams = new Map<string, Group>();
  const totals: Group = { doubles: new Array<number>(11).fill(0), series: [] };
  for (const [key, value] of Object.entries(interval.counters)) {
    const parsed = parseSeriesKey(key);
    if (parsed === undefined) continue;
    const { name, labels } = parsed;
    if (name === 'ndc_segment_events_received_total') {
      const g = group(sources, labels['source'] ?? '', 8);
      g.doubles[INGEST.events] = (g.doubles[INGEST.events] ?? 0) + value;
      const t = TYPES.indexOf(labels['type'] as (typeof TYPES)[number]);
      if (t >= 0) g.doubles[1 + t] = (g.doubles[1 + t] ?? 0) + value;
      g.series.push(key);
    } else if (name === 'ndc_segment_events_deduplicated_total') {
      const g = group(sources, labels['source'] ?? '', 8);
      g.doubles[INGEST.deduplicated] = (g.doubles[INGEST.deduplicated] ?? 0) + value;
      g.series.push(key);
    } else if (
      name === 'ndc_segment_events_delivered_total' ||
      name === 'ndc_segment_records_delivered_total' ||
      name === 'delivery_failure_total' ||
      name === 'ndc_segment_firehose_calls_total'
    ) {
      const g = group(streams, labels['stream'] ?? '', 4);
      const at =
        name === 'ndc_segment_events_delivered_total'
          ? DELIVERY.events
          : name === 'ndc_segment_records_delivered_total'
            ? DELIVERY.records
            : name === 'delivery_failure_total'
              ? DELIVERY.failed
              : DELIVERY.calls;
      g.doubles[at] = (g.doubles[at] ?? 0) + value;
      g.series.push(key);
    } else if (TOTALS[name] !== undefined) {
      const at = TOTALS[name];
      totals.doubles[at] = (totals.doubles[at] ?? 0) + value;
      totals.series.push(key);
    }
  }
  const latency = interval.histograms['ndc_segment_delivery_latency_seconds'];
  if (latency !== undefined) {
    totals.doubles[LATENCY_SUM] = latency.sum;
    totals.doubles[LATENCY_COUNT] = latency.count;
    totals.series.push('ndc_segment_delivery_latency_seconds');
  }
  // One point per source ('ingest') and per stream ('delivery'), indexed by its name.
  const named = (kind: string, groups: typeof sources): IntervalPoint[] =>
    [...groups].map(([name, g]) => ({
      point: { indexes: [indexValue(name)], blobs: fitBlobs([kind, name]), doubles: g.doubles },
      series: g.series,
    }));
  const points = [...named('ingest', sources), ...named('delivery', streams)];
  if (totals.series.length > 0) {
    points.push({
      point: { indexes: ['ndc_segment'], blobs: ['totals', ''], doubles: totals.doubles },
      series: totals.series,
    });
  }
  return points;
}
