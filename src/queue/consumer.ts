// The events queues' consumer: `deliverBatch` (deliver.ts) sends each batch to Firehose; the
// dead-letter queues' consumer is src/archive/writer.ts. The clock, random source and id maker
// they share are injected (ConsumerDeps).

import type { DeliveryReport } from '../metrics/record';

export { deliverBatch, firehoseSettings, FIREHOSE_MAX_CONCURRENT_CALLS } from './deliver';
export type { DeliveryReport };

export interface ConsumerDeps {
  now: () => number;
  random: () => number;
  newId: () => string;
  /** Attempts Queues makes (max_retries + 1); tests shorten it. Default DELIVERY_MAX_ATTEMPTS. */
  maxAttempts?: number;
}

export const runtimeConsumerDeps: ConsumerDeps = {
  now: () => Date.now(),
  random: () => Math.random(),
  newId: () => crypto.randomUUID(),
};
