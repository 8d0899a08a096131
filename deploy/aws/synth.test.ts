// The synthesis is checked by cdk-nag: a bucket without the acknowledgement stack.ts gives it
// fails synthesis, naming the rule; the real stack synthesizes. Run by `npm run aws:check`.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BootstraplessSynthesizer, Stack } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { checkedApp, synthesize } from './synth.ts';

describe('synthesis', () => {
  it('fails on an AwsSolutions finding that is not acknowledged', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'ndc-segment-cdk-test-'));
    try {
      const app = checkedApp(outdir);
      const stack = new Stack(app, 'unacknowledged', {
        synthesizer: new BootstraplessSynthesizer(),
      });
      // Everything stack.ts sets on its bucket but the acknowledgement of access logs (S1).
      new Bucket(stack, 'Events', {
        encryption: BucketEncryption.S3_MANAGED,
        blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
      });
      const errors: string[] = [];
      const original = console.error;
      console.error = (...args: unknown[]) => errors.push(args.map(String).join(' '));
      try {
        assert.throws(() => app.synth(), /Validation failed/);
      } finally {
        console.error = original;
      }
      assert.match(errors.join('\n'), /AwsSolutions-S1/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('writes each acknowledged finding into the template with its reason', () => {
    const { yaml } = synthesize();
    const acknowledged = [...yaml.matchAll(/- id: (AwsSolutions-[^\n]+)\n\s+reason: (.+)/g)];
    assert.deepEqual([...new Set(acknowledged.map((m) => m[1]?.replace(/\[.*\]$/, '')))].sort(), [
      'AwsSolutions-IAM5',
      'AwsSolutions-S1',
    ]);
    for (const m of acknowledged) assert.ok((m[2] ?? '').length > 40, `${m[1]} has a reason`);
  });
});
