// Cost per million events at list prices (bench/prices.ts) and the scaling a queue and a
// delivery stream allow at their quotas, from the delivery model and the measured CPU. Pure.

import { attempts, retryKey, type DeliveryFigures } from './delivery';
import {
  FIREHOSE_BYTES_PER_BILLED_GB,
  FIREHOSE_STREAM_MAX_BYTES_PER_SECOND,
  FIREHOSE_STREAM_MAX_CALLS_PER_SECOND,
  FIREHOSE_STREAM_MAX_RECORDS_PER_SECOND,
  FIREHOSE_USD_PER_GB,
  QUEUE_MAX_MESSAGES_PER_SECOND,
  QUEUES_USD_PER_MILLION_OPERATIONS,
  WORKERS_USD_PER_MILLION_CPU_MS,
  WORKERS_USD_PER_MILLION_REQUESTS,
} from './prices';

const MILLION = 1_000_000;

export interface CostLine {
  workersRequests: number;
  workersCpu: number | undefined;
  queues: number;
  firehose: number;
  total: number;
}

export interface CostCase {
  label: string;
  retryRate: number;
  /** CPU-ms per event used for the Workers CPU line, when measured. */
  cpuMsPerEvent: number | undefined;
  usdPerMillionEvents: CostLine;
}

/**
 * Dollars per million events. Workers requests count the ingest requests and, as an upper
 * bound, one request per consumer invocation (each retry re-delivers in a new invocation).
 * Retried messages are read again (Queues) and, as an upper bound, sent and billed by
 * Firehose again.
 */
export function costPerMillion(
  d: DeliveryFigures,
  retryRate: number,
  cpuMsPerEvent: number | undefined,
): CostCase {
  const k = attempts(retryRate);
  const requests = d.perEvent.requests + d.perEvent.consumerInvocations * k;
  const workersRequests = requests * WORKERS_USD_PER_MILLION_REQUESTS;
  const workersCpu =
    cpuMsPerEvent === undefined ? undefined : cpuMsPerEvent * WORKERS_USD_PER_MILLION_CPU_MS;
  const ops = d.queueOpsPerEvent[retryKey(retryRate)] ?? NaN;
  const queues = ops * QUEUES_USD_PER_MILLION_OPERATIONS;
  const firehose =
    ((d.perEvent.billedBytes * k * MILLION) / FIREHOSE_BYTES_PER_BILLED_GB) * FIREHOSE_USD_PER_GB;
  return {
    label: d.short,
    retryRate,
    cpuMsPerEvent,
    usdPerMillionEvents: {
      workersRequests,
      workersCpu,
      queues,
      firehose,
      total: workersRequests + (workersCpu ?? 0) + queues + firehose,
    },
  };
}

export interface Capacity {
  label: string;
  eventsPerSecondPerQueue: number;
  eventsPerSecondPerStream: number;
  /** Which stream quota binds first. */
  streamBoundBy: 'bytes' | 'calls' | 'records';
  needed: Array<{ eventsPerSecond: number; queues: number; streams: number }>;
}

/**
 * Events/s one queue and one stream carry at their quotas, and how many of each a rate
 * needs. The stream's 5 MiB/s is applied to the bytes sent (the quota counts data, not the
 * billing rounding); retries are not counted here.
 */
export function capacity(d: DeliveryFigures, rates: readonly number[]): Capacity {
  const perQueue = QUEUE_MAX_MESSAGES_PER_SECOND * d.eventsPerMessage;
  const bounds = {
    bytes: FIREHOSE_STREAM_MAX_BYTES_PER_SECOND / d.bytesPerEvent,
    calls: FIREHOSE_STREAM_MAX_CALLS_PER_SECOND * d.eventsPerCall,
    records: FIREHOSE_STREAM_MAX_RECORDS_PER_SECOND * d.eventsPerRecord,
  };
  const [boundBy, perStream] = (
    Object.entries(bounds) as Array<[Capacity['streamBoundBy'], number]>
  ).sort((a, b) => a[1] - b[1])[0] ?? ['bytes', bounds.bytes];
  return {
    label: d.short,
    eventsPerSecondPerQueue: perQueue,
    eventsPerSecondPerStream: perStream,
    streamBoundBy: boundBy,
    needed: rates.map((rate) => ({
      eventsPerSecond: rate,
      queues: Math.ceil(rate / perQueue),
      streams: Math.ceil(rate / perStream),
    })),
  };
}
