// Credentials the tests' Worker signs with and the local Firehose endpoint verifies.
export const TEST_FIREHOSE = {
  region: 'us-east-1',
  // The region of the tests' routed sources (FIREHOSE_ROUTES): the endpoint accepts it too.
  routedRegion: 'eu-west-1',
  accessKeyId: 'AKIDNDCSEGMENTTEST',
  secretAccessKey: 'ndc-segment-test-secret',
  stream: 'test-events',
} as const;
