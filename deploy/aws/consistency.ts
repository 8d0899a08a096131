// Whether the template says what the docs and wrangler.toml say: the stream's name, its prefixes,
// buffering and compression, the Firehose role's S3 actions, and the Worker's policy (one action
// on that one stream). Pure: the template as an object and the files as text in, the
// disagreements out (empty when all agree); check.ts reads the files.

type Json = unknown;

export interface Sources {
  /** The synthesized template, as parsed JSON/YAML. */
  template: Json;
  productionMd: string;
  readmeMd: string;
  wranglerToml: string;
}

function at(value: Json, ...path: Array<string | number>): Json {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string | number, Json>)[key];
  }
  return v;
}

/** A top-level `NAME = "value"` of wrangler.toml's [vars]. */
export function tomlVar(toml: string, name: string): string | undefined {
  return new RegExp(`^${name}\\s*=\\s*"([^"]*)"`, 'm').exec(toml)?.[1];
}

/** Every ```json block of a Markdown text, parsed (blocks that do not parse are skipped). */
export function jsonBlocks(markdown: string): Json[] {
  const out: Json[] = [];
  for (const m of markdown.matchAll(/```json\n([\s\S]*?)```/g)) {
    try {
      out.push(JSON.parse(m[1] ?? '') as Json);
    } catch {
      // A JSON block with comments or ellipses is prose, not a policy.
    }
  }
  return out;
}

/** The statements of the policy blocks that allow `action`. */
function statementsAllowing(markdown: string, action: string): Json[] {
  return jsonBlocks(markdown)
    .flatMap((block) => {
      const statements = at(block, 'Statement');
      return Array.isArray(statements) ? (statements as Json[]) : [];
    })
    .filter((s) => {
      const actions = at(s, 'Action');
      return actions === action || (Array.isArray(actions) && actions.includes(action));
    });
}

/** The resources of the template of a given type, by logical id. */
function resourcesOfType(template: Json, type: string): Array<[string, Json]> {
  const resources = at(template, 'Resources');
  if (typeof resources !== 'object' || resources === null) return [];
  return Object.entries(resources as Record<string, Json>).filter(
    ([, r]) => at(r, 'Type') === type,
  );
}

/** A quoted JSON string value of `key` in a text (the CLI's inline JSON). */
function quotedValue(text: string, key: string): string | undefined {
  return new RegExp(`"${key}":\\s*"([^"]*)"`).exec(text)?.[1];
}

function asList(value: Json): Json[] {
  return Array.isArray(value) ? value : [value];
}

/** Records a disagreement when `actual` is not `expected` (compared as JSON). */
type Expect = (what: string, actual: Json, expected: Json) => void;

interface Settings {
  /** wrangler.toml's FIREHOSE_STREAM and AWS_REGION. */
  stream: string | undefined;
  region: string | undefined;
}

/** The stream: its name, type, prefixes, buffering and compression, as the docs create it. */
function checkStream(s: Sources, w: Settings, expect: Expect, problems: string[]): string {
  expect(
    "the template's StreamName default",
    at(s.template, 'Parameters', 'StreamName', 'Default'),
    w.stream,
  );
  const streams = resourcesOfType(s.template, 'AWS::KinesisFirehose::DeliveryStream');
  if (streams.length !== 1) problems.push(`the template has ${streams.length} delivery streams`);
  const [streamId, resource] = streams[0] ?? ['', undefined];
  const s3 = at(resource, 'Properties', 'ExtendedS3DestinationConfiguration');
  expect("the stream's name", at(resource, 'Properties', 'DeliveryStreamName'), {
    Ref: 'StreamName',
  });
  expect("the stream's type", at(resource, 'Properties', 'DeliveryStreamType'), 'DirectPut');
  // docs/production.md's CLI alternative creates the same stream.
  const md = s.productionMd;
  expect(
    'docs/production.md --delivery-stream-name',
    /--delivery-stream-name (\S+)/.exec(md)?.[1],
    w.stream,
  );
  for (const key of ['Prefix', 'ErrorOutputPrefix', 'CompressionFormat'])
    expect(`docs/production.md "${key}"`, quotedValue(md, key), at(s3, key));
  const hints =
    /"BufferingHints":\s*\{\s*"SizeInMBs":\s*(\d+),\s*"IntervalInSeconds":\s*(\d+)\s*\}/.exec(md);
  expect('docs/production.md BufferingHints', hints?.slice(1).map(Number), [
    at(s3, 'BufferingHints', 'SizeInMBs'),
    at(s3, 'BufferingHints', 'IntervalInSeconds'),
  ]);
  expect("README.md's prefix", /prefix such as `([^`]+)`/.exec(s.readmeMd)?.[1], at(s3, 'Prefix'));
  expect(
    'docs/production.md aws cloudformation deploy --region',
    /aws cloudformation deploy[^`]*?--region (\S+)/.exec(md)?.[1],
    w.region,
  );
  return streamId;
}

/** The Worker's policy: exactly PutRecordBatch on the stream, in the template and the docs. */
function checkWorkerPolicy(
  s: Sources,
  w: Settings,
  streamId: string,
  expect: Expect,
  problems: string[],
): void {
  const workerPolicies = resourcesOfType(s.template, 'AWS::IAM::Policy').filter(([, p]) =>
    asList(at(p, 'Properties', 'PolicyDocument', 'Statement')).some((st) =>
      asList(at(st, 'Action')).includes('firehose:PutRecordBatch'),
    ),
  );
  if (workerPolicies.length !== 1)
    problems.push(`the template has ${workerPolicies.length} policies allowing PutRecordBatch`);
  expect(
    "the Worker policy's statements",
    asList(at(workerPolicies[0]?.[1], 'Properties', 'PolicyDocument', 'Statement')),
    [
      {
        Action: 'firehose:PutRecordBatch',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [streamId, 'Arn'] },
      },
    ],
  );
  const arn = `arn:aws:firehose:${w.region}:123456789012:deliverystream/${w.stream}`;
  for (const [file, text] of [
    ['docs/production.md', s.productionMd],
    ['README.md', s.readmeMd],
  ] as const) {
    expect(`${file}'s Worker policy`, statementsAllowing(text, 'firehose:PutRecordBatch'), [
      { Effect: 'Allow', Action: 'firehose:PutRecordBatch', Resource: arn },
    ]);
  }
}

/** Firehose's role: the S3 actions the docs list. */
function checkFirehoseRole(s: Sources, expect: Expect): void {
  const s3Statements = statementsAllowing(s.productionMd, 's3:PutObject');
  const roleActions = resourcesOfType(s.template, 'AWS::IAM::Policy')
    .flatMap(([, p]) => asList(at(p, 'Properties', 'PolicyDocument', 'Statement')))
    .map((st) => at(st, 'Action'))
    .find((a) => Array.isArray(a) && a.includes('s3:PutObject'));
  expect("the Firehose role's S3 actions", roleActions, at(s3Statements[0], 'Action'));
}

/** Every disagreement between the template, the docs and wrangler.toml. */
export function disagreements(s: Sources): string[] {
  const problems: string[] = [];
  const expect: Expect = (what, actual, expected) => {
    if (JSON.stringify(actual) !== JSON.stringify(expected))
      problems.push(`${what}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  };
  const w: Settings = {
    stream: tomlVar(s.wranglerToml, 'FIREHOSE_STREAM'),
    region: tomlVar(s.wranglerToml, 'AWS_REGION'),
  };
  if (w.stream === undefined) problems.push('wrangler.toml sets no FIREHOSE_STREAM');
  if (w.region === undefined) problems.push('wrangler.toml sets no AWS_REGION');
  const streamId = checkStream(s, w, expect, problems);
  checkWorkerPolicy(s, w, streamId, expect, problems);
  checkFirehoseRole(s, expect);
  return problems;
}
