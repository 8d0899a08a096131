// The Worker's PutRecordBatch signature with a pinned clock, against a golden request that
// test/scripts/firehose-golden.test.ts verifies independently with @smithy/signature-v4.
import { describe, expect, it } from 'vitest';
import { defaultEndpoint, signPutRecordBatch } from '../../src/firehose/client';
import { encodePutRecordBatch } from '../../src/firehose/codec';
import golden from '../fixtures/firehose-golden-request.json';

describe('signPutRecordBatch', () => {
  it('produces the golden request for a pinned clock', async () => {
    const body = encodePutRecordBatch('ndc-segment', [
      { data: '{"type":"track","event":"NDC","messageId":"golden-1"}\n' },
    ]);
    expect(body).toBe(golden.body);
    const signed = await signPutRecordBatch(golden.settings, body, golden.datetime);
    const headers: Record<string, string> = {};
    signed.headers.forEach((value, name) => {
      headers[name] = value;
    });
    expect(signed.url).toBe(golden.url);
    expect(signed.method).toBe('POST');
    expect(headers).toEqual(golden.headers);
  });

  it('signs a session token when one is set', async () => {
    const signed = await signPutRecordBatch(
      { ...golden.settings, sessionToken: 'tok' },
      golden.body,
      golden.datetime,
    );
    expect(signed.headers.get('x-amz-security-token')).toBe('tok');
    expect(signed.headers.get('authorization')).toContain('x-amz-security-token');
    expect(signed.headers.get('authorization')).not.toBe(golden.headers.authorization);
  });

  it('changes the signature when the body changes', async () => {
    const signed = await signPutRecordBatch(golden.settings, `${golden.body} `, golden.datetime);
    expect(signed.headers.get('authorization')).not.toBe(golden.headers.authorization);
  });
});

describe('defaultEndpoint', () => {
  it('is the regional Firehose endpoint', () => {
    expect(defaultEndpoint('eu-west-1')).toMatch(
      /^https:\/\/firehose\.eu-west-1\.amazonaws\.[a-z]+\/$/,
    );
  });
});
