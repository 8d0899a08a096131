// The CI check of the AWS side (`npm run aws:check` from the repository root): a fresh synthesis
// (which fails on any cdk-nag AwsSolutions finding not acknowledged with its reason) must equal
// the committed template.yaml, and the template must agree with docs/production.md, README.md
// and wrangler.toml (consistency.ts). Prints each problem and exits 1 on any.

import { readFileSync } from 'node:fs';
import { disagreements } from './consistency.ts';
import { synthesize } from './synth.ts';

const read = (path: string): string => readFileSync(new URL(path, import.meta.url), 'utf8');

const { template, yaml } = synthesize();
const problems: string[] = [];
if (read('template.yaml') !== yaml) {
  problems.push(
    'deploy/aws/template.yaml differs from a fresh synthesis of deploy/aws/stack.ts: run `npm run aws:synth` and commit it',
  );
}
problems.push(
  ...disagreements({
    template,
    productionMd: read('../../docs/production.md'),
    readmeMd: read('../../README.md'),
    wranglerToml: read('../../wrangler.toml'),
  }),
);
for (const p of problems) console.error(`aws check: ${p}`);
if (problems.length > 0) process.exit(1);
console.log(
  'aws check: template.yaml matches a fresh synthesis, passes cdk-nag AwsSolutions, and agrees with the docs and wrangler.toml',
);
