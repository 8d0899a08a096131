// What `getQueueResult` (cloudflare:test) returns. @cloudflare/workers-types declares it only
// in its experimental entry point, which this project does not load.
interface FetcherQueueResult {
  outcome: string;
  ackAll: boolean;
  retryBatch: { retry: boolean; delaySeconds?: number };
  explicitAcks: string[];
  retryMessages: Array<{ msgId: string; delaySeconds?: number }>;
}
