// Independent check of the golden request the Worker's signer must reproduce
// (test/firehose/signing.worker.test.ts): @smithy/signature-v4, not aws4fetch, accepts it.
import { describe, expect, it } from 'vitest';
import { verifySigV4 } from '../../scripts/local-firehose/sigv4';
import golden from '../fixtures/firehose-golden-request.json';

describe('the golden PutRecordBatch request', () => {
  const request = {
    method: 'POST',
    path: '/',
    query: '',
    headers: { ...golden.headers, host: new URL(golden.url).host },
    body: new TextEncoder().encode(golden.body),
  };
  const creds = {
    accessKeyId: golden.settings.accessKeyId,
    secretAccessKey: golden.settings.secretAccessKey,
    region: golden.settings.region,
  };

  it('verifies with smithy SigV4', async () => {
    expect(await verifySigV4(request, creds)).toEqual({ ok: true, region: creds.region });
  });

  it('fails with smithy SigV4 for another secret or a changed body', async () => {
    expect((await verifySigV4(request, { ...creds, secretAccessKey: 'x' })).ok).toBe(false);
    const tampered = { ...request, body: new TextEncoder().encode(`${golden.body} `) };
    expect((await verifySigV4(tampered, creds)).ok).toBe(false);
  });
});
