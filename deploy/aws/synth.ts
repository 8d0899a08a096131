// Synthesizes the stack (stack.ts) into CloudFormation YAML, with cdk-nag's AwsSolutions checks
// as a validation plugin: synthesis fails on any finding that is not acknowledged, and the
// acknowledged ones are written into the template's Metadata with their reasons.
//
//   node --import tsx deploy/aws/synth.ts                 writes deploy/aws/template.yaml
//   node --import tsx deploy/aws/synth.ts --out <file>    writes <file> (the CI check's fresh synth)
//
// No bootstrap and no CDK metadata: the template is deployed as it is with `aws cloudformation
// deploy`, by people who do not use the CDK.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, BootstraplessSynthesizer, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stringify } from 'yaml';
import { CollectorAwsStack } from './stack.ts';

export const STACK_NAME = 'ndc-segment';

const HEADER = `# The AWS side of ndc-segment: S3 bucket, Firehose stream, Firehose's role, the Worker's user.
# Generated from deploy/aws/stack.ts by \`npm run aws:synth\`; do not edit by hand.
# Deploy: docs/production.md (aws cloudformation deploy --template-file deploy/aws/template.yaml …).
`;

/**
 * An app whose synthesis runs cdk-nag's AwsSolutions checks (and fails on a finding not
 * acknowledged), without bootstrap, CDK metadata or construct paths in the template.
 */
export function checkedApp(outdir: string): App {
  const app = new App({
    outdir,
    analyticsReporting: false,
    context: { 'aws:cdk:enable-path-metadata': false },
  });
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }),
  );
  return app;
}

/** The template, as an object and as the YAML committed, from a synthesis in a temp directory. */
export function synthesize(): { template: unknown; yaml: string } {
  const outdir = mkdtempSync(join(tmpdir(), 'ndc-segment-cdk-'));
  try {
    const app = checkedApp(outdir);
    new CollectorAwsStack(app, STACK_NAME, {
      synthesizer: new BootstraplessSynthesizer(),
      description:
        'ndc-segment: the S3 bucket, Firehose stream and IAM identities it delivers with',
    });
    const assembly = app.synth();
    const stack = assembly.getStackByName(STACK_NAME);
    const template = JSON.parse(readFileSync(join(outdir, stack.templateFile), 'utf8')) as unknown;
    const yaml = stringify(template, {
      // CloudFormation reads YAML 1.1, where an unquoted 2012-10-17 is a date and `on` a boolean.
      version: '1.1',
      lineWidth: 0,
      aliasDuplicateObjects: false,
    });
    return { template, yaml: HEADER + yaml };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const out =
    at === -1 ? fileURLToPath(new URL('template.yaml', import.meta.url)) : process.argv[at + 1];
  if (out === undefined) throw new Error('--out needs a file name');
  writeFileSync(out, synthesize().yaml);
}
