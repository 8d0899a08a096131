// Values the global setup provides to tests (test/support/node/firehose-global-setup.ts).
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    firehoseUrl: string;
  }
}
