// The consistency check finds each kind of disagreement it is for: run by `npm run aws:check`
// (node's test runner: this folder has its own dependencies, apart from the collector's vitest).
// The committed template, docs and wrangler.toml agree; each edit below makes them disagree.

import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { disagreements, type Sources } from './consistency.ts';

const read = (path: string): string => readFileSync(new URL(path, import.meta.url), 'utf8');

function committed(): Sources {
  return {
    template: parse(read('template.yaml'), { version: '1.1' }) as unknown,
    productionMd: read('../../docs/production.md'),
    readmeMd: read('../../README.md'),
    wranglerToml: read('../../wrangler.toml'),
  };
}

/** The committed sources with one change; the change must have taken. */
function edited(change: (s: Sources) => Sources): Sources {
  const before = committed();
  const after = change(committed());
  assert.notDeepEqual(after, before, 'the edit changed nothing');
  return after;
}

function replaced(text: string, from: string, to: string): string {
  assert.ok(text.includes(from), `no ${from}`);
  return text.replaceAll(from, to);
}

describe('disagreements', () => {
  it('finds none between the committed template, docs and wrangler.toml', () => {
    assert.deepEqual(disagreements(committed()), []);
  });

  it('finds a FIREHOSE_STREAM other than the template default', () => {
    const s = edited((s) => ({
      ...s,
      wranglerToml: replaced(
        s.wranglerToml,
        'FIREHOSE_STREAM = "ndc-segment"',
        'FIREHOSE_STREAM = "other"',
      ),
    }));
    assert.ok(disagreements(s).some((p) => p.startsWith("the template's StreamName default")));
  });

  it('finds a docs prefix other than the stream prefix', () => {
    const s = edited((s) => ({
      ...s,
      productionMd: replaced(s.productionMd, '"Prefix": "events/', '"Prefix": "raw/'),
    }));
    assert.ok(disagreements(s).some((p) => p.startsWith('docs/production.md "Prefix"')));
  });

  it('finds an AWS_REGION other than the docs policy region', () => {
    const s = edited((s) => ({
      ...s,
      wranglerToml: replaced(
        s.wranglerToml,
        'AWS_REGION = "us-east-1"',
        'AWS_REGION = "eu-west-1"',
      ),
    }));
    const found = disagreements(s);
    assert.ok(found.some((p) => p.startsWith("README.md's Worker policy")));
    assert.ok(found.some((p) => p.startsWith('docs/production.md aws cloudformation deploy')));
  });

  it('finds a Worker policy wider than PutRecordBatch on the stream', () => {
    const s = edited((s) => {
      const template = structuredClone(s.template) as {
        Resources: Record<
          string,
          { Type: string; Properties: { PolicyDocument: { Statement: unknown[] } } }
        >;
      };
      for (const r of Object.values(template.Resources)) {
        const statements =
          r.Type === 'AWS::IAM::Policy' ? r.Properties.PolicyDocument.Statement : [];
        if (JSON.stringify(statements).includes('firehose:PutRecordBatch'))
          statements.push({ Action: 'firehose:*', Effect: 'Allow', Resource: '*' });
      }
      return { ...s, template };
    });
    assert.ok(disagreements(s).some((p) => p.startsWith("the Worker policy's statements")));
  });

  it('finds buffering in the docs other than the stream buffering', () => {
    const s = edited((s) => ({
      ...s,
      productionMd: replaced(s.productionMd, '"IntervalInSeconds": 300', '"IntervalInSeconds": 60'),
    }));
    assert.ok(disagreements(s).some((p) => p.startsWith('docs/production.md BufferingHints')));
  });
});
