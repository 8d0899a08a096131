// Values provided to tests: by the global setups (test/support/node/*-global-setup.ts) and by
// vitest.config.ts.
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    firehoseUrl: string;
    /** The Worker's vars in the workers project, but FIREHOSE_ENDPOINT (firehoseUrl) and FORWARD_ENDPOINT (segmentUrl). */
    workerVars: Record<string, unknown>;
    segmentUrl: string;
  }
}
