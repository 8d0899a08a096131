// Values the global setups provide to tests (test/support/node/*-global-setup.ts).
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    firehoseUrl: string;
    segmentUrl: string;
  }
}
