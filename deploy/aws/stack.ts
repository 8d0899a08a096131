// The AWS side of ndc-segment as one CloudFormation stack: the S3 bucket events land in, the
// Direct PUT Firehose stream that writes them there, the role Firehose writes with, and the
// Worker's identity, allowed only firehose:PutRecordBatch on that stream. synth.ts turns it
// into deploy/aws/template.yaml (committed, so deploying needs no CDK); docs/production.md
// deploys it with `aws cloudformation deploy`.
//
// Every cdk-nag AwsSolutions finding left standing is acknowledged beside the resource, with
// its reason; synth fails on any other.

import {
  ArnFormat,
  Aws,
  CfnOutput,
  CfnParameter,
  CfnResource,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  Validations,
  type StackProps,
} from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal, User } from 'aws-cdk-lib/aws-iam';
import { CfnDeliveryStream } from 'aws-cdk-lib/aws-kinesisfirehose';
import { LogGroup, LogStream, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

// wrangler.toml: FIREHOSE_STREAM's default; the stream's name unless the deployer picks another.
export const DEFAULT_STREAM_NAME = 'ndc-segment';

// docs/production.md: objects by Firehose's arrival hour (`!{timestamp:…}` is its namespace),
// so Athena's partition projection reads one hour as one prefix (docs/querying.md).
export const EVENTS_PREFIX = 'events/!{timestamp:yyyy/MM/dd/HH}/';
export const ERROR_PREFIX = 'errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/';
// The part of ERROR_PREFIX before Firehose's expressions: what the lifecycle rule expires.
export const ERROR_PREFIX_ROOT = 'errors/';

// Firehose S3 destination: buffer size 1–128 MiB, interval 0–900 s (API reference,
// BufferingHints). The largest size and 300 s make fewer, larger objects (cheaper to store and
// query) while events still land within five minutes.
export const BUFFER_SIZE_MIB = 128;
export const BUFFER_INTERVAL_SECONDS = 300;

// The one action the Worker needs (src/firehose/client.ts calls PutRecordBatch only).
export const WORKER_ACTION = 'firehose:PutRecordBatch';

// Firehose's S3 destination permissions, as AWS documents them for a role in the same account
// ("Grant Firehose access to an Amazon S3 destination").
const FIREHOSE_S3_ACTIONS = [
  's3:AbortMultipartUpload',
  's3:GetBucketLocation',
  's3:GetObject',
  's3:ListBucket',
  's3:ListBucketMultipartUploads',
  's3:PutObject',
];

// Ours: failed-delivery objects are kept a month for diagnosis, then expire; events never do.
const ERROR_RETENTION_DAYS_DEFAULT = 30;
// Ours: S3 bills the parts of an upload Firehose never completed; a week is ample to finish one.
const ABORT_INCOMPLETE_UPLOAD_DAYS = 7;

/** The CloudFormation resource behind an L2 construct (where a finding is acknowledged). */
function cfn(construct: Construct): CfnResource {
  const child = construct.node.defaultChild;
  if (!(child instanceof CfnResource)) throw new Error(`${construct.node.path} has no resource`);
  return child;
}

interface Parameters {
  streamName: CfnParameter;
  bucketName: CfnParameter;
  errorDays: CfnParameter;
}

interface DeliveryLogs {
  group: LogGroup;
  stream: LogStream;
}

export class CollectorAwsStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const params = this.parameters();
    const bucket = this.bucket(params);
    const logs = this.deliveryLogs();
    const role = this.firehoseRole(bucket, logs);
    const stream = this.stream(params, bucket, role, logs);
    const worker = new User(this, 'WorkerUser');
    worker.addToPolicy(
      new PolicyStatement({ actions: [WORKER_ACTION], resources: [stream.attrArn] }),
    );
    this.outputs(stream, bucket, worker);
  }

  /** What the deployer chooses: the stream's and the bucket's names, how long errors stay. */
  private parameters(): Parameters {
    return {
      streamName: new CfnParameter(this, 'StreamName', {
        type: 'String',
        default: DEFAULT_STREAM_NAME,
        // Firehose DeliveryStreamName: 1–64 characters of [a-zA-Z0-9_.-].
        allowedPattern: '[a-zA-Z0-9_.-]{1,64}',
        description: "The Firehose stream's name: FIREHOSE_STREAM in wrangler.toml.",
      }),
      bucketName: new CfnParameter(this, 'BucketName', {
        type: 'String',
        // S3 bucket naming rules: 3–63 characters, lower case, digits, dots and hyphens.
        allowedPattern: '[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]',
        description: 'A new S3 bucket for the events (globally unique), e.g. my-segment-events.',
      }),
      errorDays: new CfnParameter(this, 'ErrorRetentionDays', {
        type: 'Number',
        default: ERROR_RETENTION_DAYS_DEFAULT,
        minValue: 1,
        description: `Days objects under ${ERROR_PREFIX_ROOT} (records Firehose could not deliver) are kept.`,
      }),
    };
  }

  /** The events' bucket: encrypted, never public, TLS only, kept when the stack is deleted. */
  private bucket(params: Parameters): Bucket {
    const bucket = new Bucket(this, 'Events', {
      bucketName: params.bucketName.valueAsString,
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'expire-delivery-errors',
          prefix: ERROR_PREFIX_ROOT,
          expiration: Duration.days(params.errorDays.valueAsNumber),
        },
        {
          id: 'abort-incomplete-uploads',
          abortIncompleteMultipartUploadAfter: Duration.days(ABORT_INCOMPLETE_UPLOAD_DAYS),
        },
      ],
    });
    Validations.of(cfn(bucket)).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only the Firehose role writes this bucket; server access logs would need a second bucket and grow with every object. Use CloudTrail data events where reads must be audited.',
    });
    return bucket;
  }

  /** Where Firehose logs what it could not deliver to S3 (kept a month). */
  private deliveryLogs(): DeliveryLogs {
    const group = new LogGroup(this, 'DeliveryLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stream = new LogStream(this, 'S3DeliveryLogs', {
      logGroup: group,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    return { group, stream };
  }

  /** The role Firehose writes with: the bucket's objects and its own log stream, nothing else. */
  private firehoseRole(bucket: Bucket, logs: DeliveryLogs): Role {
    const role = new Role(this, 'FirehoseRole', {
      assumedBy: new ServicePrincipal('firehose.amazonaws.com'),
      // Firehose passes the account id as the external id (confused-deputy protection).
      externalIds: [Aws.ACCOUNT_ID],
      description: 'Lets the ndc-segment Firehose stream write to its bucket and log failures.',
    });
    role.addToPolicy(
      new PolicyStatement({
        actions: FIREHOSE_S3_ACTIONS,
        resources: [bucket.bucketArn, bucket.arnForObjects('*')],
      }),
    );
    role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:PutLogEvents'],
        resources: [
          this.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: `${logs.group.logGroupName}:log-stream:${logs.stream.logStreamName}`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    Validations.of(role.node.findChild('DefaultPolicy')).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.resolve(this.getLogicalId(cfn(bucket))) as string}.Arn>/*]`,
      reason:
        'Firehose names each object itself (prefix, hour, stream name, a random suffix): the role can write any key of this one bucket, and nothing else.',
    });
    return role;
  }

  /** The Direct PUT stream: GZIP NDJSON objects under the hourly prefix, failures logged. */
  private stream(
    params: Parameters,
    bucket: Bucket,
    role: Role,
    logs: DeliveryLogs,
  ): CfnDeliveryStream {
    const stream = new CfnDeliveryStream(this, 'Stream', {
      deliveryStreamName: params.streamName.valueAsString,
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: { keyType: 'AWS_OWNED_CMK' },
      extendedS3DestinationConfiguration: {
        bucketArn: bucket.bucketArn,
        roleArn: role.roleArn,
        prefix: EVENTS_PREFIX,
        errorOutputPrefix: ERROR_PREFIX,
        bufferingHints: {
          sizeInMBs: BUFFER_SIZE_MIB,
          intervalInSeconds: BUFFER_INTERVAL_SECONDS,
        },
        compressionFormat: 'GZIP',
        cloudWatchLoggingOptions: {
          enabled: true,
          logGroupName: logs.group.logGroupName,
          logStreamName: logs.stream.logStreamName,
        },
      },
    });
    // The role's policy must exist before Firehose checks it can write.
    stream.node.addDependency(role);
    return stream;
  }

  /** What the deployer reads back: the two wrangler.toml settings and the access key step. */
  private outputs(stream: CfnDeliveryStream, bucket: Bucket, worker: User): void {
    new CfnOutput(this, 'FirehoseStream', {
      value: stream.ref,
      description: 'FIREHOSE_STREAM in wrangler.toml',
    });
    new CfnOutput(this, 'Region', {
      value: Aws.REGION,
      description: 'AWS_REGION in wrangler.toml',
    });
    new CfnOutput(this, 'Bucket', { value: bucket.bucketName, description: 'Where events land' });
    new CfnOutput(this, 'WorkerUserName', {
      value: worker.userName,
      description: "The Worker's IAM user: make its access key with the command below",
    });
    new CfnOutput(this, 'CreateAccessKey', {
      value: Fn.join('', ['aws iam create-access-key --user-name ', worker.userName]),
      description:
        'Then: npx wrangler secret put AWS_ACCESS_KEY_ID (AccessKeyId) and npx wrangler secret put AWS_SECRET_ACCESS_KEY (SecretAccessKey)',
    });
  }
}
