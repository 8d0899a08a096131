// Values provided to tests: by the global setup (test/support/node/firehose-global-setup.ts)
// and by vitest.config.ts.
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    firehoseUrl: string;
    /** The Worker's vars in the workers project, but FIREHOSE_ENDPOINT (firehoseUrl). */
    workerVars: Record<string, unknown>;
  }
}
