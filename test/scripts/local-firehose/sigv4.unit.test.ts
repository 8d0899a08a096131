// verifySigV4 against AWS's own SigV4 test-suite vectors and against requests signed by
// aws4fetch (the Worker's signer) with a pinned clock, plus every rejection path.

import { AwsV4Signer } from 'aws4fetch';
import { describe, expect, it } from 'vitest';
import { parseAmzDate, verifySigV4 } from '../../../scripts/local-firehose/sigv4';
import type { SigV4Credentials, SigV4Request } from '../../../scripts/local-firehose/sigv4';

// AWS Signature Version 4 test suite: credentials and date shared by every vector.
const SUITE_CREDS: SigV4Credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  region: 'us-east-1',
  service: 'service',
};
const SUITE_DATE = '20150830T123600Z';

function suiteRequest(method: string, signature: string): SigV4Request {
  return {
    method,
    path: '/',
    query: '',
    headers: {
      // The suite's vectors are signed for this host: a header value here, never contacted.
      host: 'example.amazonaws.com',
      'x-amz-date': SUITE_DATE,
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ' +
        `SignedHeaders=host;x-amz-date, Signature=${signature}`,
    },
    body: new Uint8Array(),
  };
}

describe('verifySigV4 with the AWS test suite', () => {
  it.each([
    ['get-vanilla', 'GET', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
    ['post-vanilla', 'POST', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b'],
  ])('accepts %s', async (_name, method, signature) => {
    expect(await verifySigV4(suiteRequest(method, signature), SUITE_CREDS)).toEqual({
      ok: true,
      region: SUITE_CREDS.region,
    });
  });

  it('rejects get-vanilla with one signature digit changed', async () => {
    const bad = '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf30';
    const result = await verifySigV4(suiteRequest('GET', bad), SUITE_CREDS);
    expect(result).toMatchObject({ ok: false, code: 'InvalidSignatureException' });
  });
});

const CREDS: SigV4Credentials = {
  accessKeyId: 'AKIDLOCAL',
  secretAccessKey: 'local-secret',
  region: 'eu-west-1',
};
const NOW = new Date('2026-03-01T10:20:30Z');
const DATETIME = '20260301T102030Z';
const URL_ = 'http://127.0.0.1:4573/';
const BODY = JSON.stringify({ DeliveryStreamName: 's', Records: [{ Data: 'eyJhIjoxfQo=' }] });

interface SignOptions {
  accessKeyId?: string;
  secretAccessKey?: string;
  region?: string;
  service?: string;
  sessionToken?: string;
  datetime?: string;
  url?: string;
  headers?: Record<string, string>;
}

/** Signs like the Worker (aws4fetch) and returns the request as node:http would see it. */
async function signed(options: SignOptions = {}, body = BODY): Promise<SigV4Request> {
  const signer = new AwsV4Signer({
    method: 'POST',
    url: options.url ?? URL_,
    headers: {
      'X-Amz-Target': 'Firehose_20150804.PutRecordBatch',
      'Content-Type': 'application/x-amz-json-1.1',
      ...options.headers,
    },
    body,
    accessKeyId: options.accessKeyId ?? CREDS.accessKeyId,
    secretAccessKey: options.secretAccessKey ?? CREDS.secretAccessKey,
    region: options.region ?? CREDS.region,
    service: options.service ?? 'firehose',
    datetime: options.datetime ?? DATETIME,
    ...(options.sessionToken === undefined ? {} : { sessionToken: options.sessionToken }),
  });
  const out = await signer.sign();
  const url = new URL(out.url);
  const headers: Record<string, string> = { host: url.host };
  // The tsconfig's DOM lib has no Headers iterator; forEach is typed.
  out.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return {
    method: out.method,
    path: url.pathname,
    query: url.search.slice(1),
    headers,
    body: new TextEncoder().encode(body),
  };
}

function withHeaders(req: SigV4Request, headers: Record<string, string | undefined>): SigV4Request {
  return { ...req, headers: { ...req.headers, ...headers } };
}

describe('verifySigV4 with aws4fetch-signed Firehose calls', () => {
  it('accepts a PutRecordBatch signed by aws4fetch', async () => {
    const req = await signed();
    expect(req.headers['authorization']).toContain('SignedHeaders=host;x-amz-date;x-amz-target,');
    expect(await verifySigV4(req, CREDS, { now: NOW })).toEqual({ ok: true, region: CREDS.region });
  });

  it('accepts a host with a non-default port and a query string', async () => {
    const req = await signed({ url: 'http://localhost:8787/?a=1&b=two%20words' });
    expect(req.headers['host']).toBe('localhost:8787');
    expect(await verifySigV4(req, CREDS, { now: NOW })).toEqual({ ok: true, region: CREDS.region });
  });

  it('ignores unsigned headers such as content-type and user-agent', async () => {
    const req = withHeaders(await signed(), { 'content-type': 'text/plain', 'user-agent': 'x' });
    expect(await verifySigV4(req, CREDS, { now: NOW })).toEqual({ ok: true, region: CREDS.region });
  });

  it.each<[string, (req: SigV4Request) => SigV4Request, string]>([
    [
      'a tampered body',
      (req) => ({ ...req, body: new TextEncoder().encode(BODY.replace('"s"', '"t"')) }),
      'InvalidSignatureException',
    ],
    [
      'a tampered signed header',
      (req) => withHeaders(req, { 'x-amz-target': 'Firehose_20150804.PutRecord' }),
      'InvalidSignatureException',
    ],
    [
      'a different host',
      (req) => withHeaders(req, { host: '127.0.0.1:4574' }),
      'InvalidSignatureException',
    ],
    ['a different path', (req) => ({ ...req, path: '/other' }), 'InvalidSignatureException'],
    [
      'no Authorization header',
      (req) => withHeaders(req, { authorization: undefined }),
      'MissingAuthenticationTokenException',
    ],
    [
      'a malformed Authorization header',
      (req) => withHeaders(req, { authorization: 'AWS4-HMAC-SHA256 Credential=AKIDLOCAL' }),
      'IncompleteSignatureException',
    ],
    [
      'another algorithm',
      (req) =>
        withHeaders(req, {
          authorization: String(req.headers['authorization']).replace('HMAC', 'ECDSA'),
        }),
      'IncompleteSignatureException',
    ],
    [
      'no X-Amz-Date',
      (req) => withHeaders(req, { 'x-amz-date': undefined }),
      'IncompleteSignatureException',
    ],
    [
      'a payload hash header that does not match the body',
      (req) => withHeaders(req, { 'x-amz-content-sha256': 'a'.repeat(64) }),
      'InvalidSignatureException',
    ],
  ])('rejects %s', async (_name, mutate, code) => {
    const result = await verifySigV4(mutate(await signed()), CREDS, { now: NOW });
    expect(result).toMatchObject({ ok: false, code });
  });

  it.each<[string, SignOptions, string, RegExp]>([
    ['a wrong secret', { secretAccessKey: 'nope' }, 'InvalidSignatureException', /calculated/],
    ['an unknown access key', { accessKeyId: 'AKIDOTHER' }, 'UnrecognizedClientException', /token/],
    ['a wrong region', { region: 'us-east-1' }, 'InvalidSignatureException', /region/],
    ['a wrong service', { service: 'kinesis' }, 'InvalidSignatureException', /service/],
    ['a stale date', { datetime: '20260301T101500Z' }, 'InvalidSignatureException', /expired/],
    ['a future date', { datetime: '20260301T103000Z' }, 'InvalidSignatureException', /current/],
  ])('rejects %s', async (_name, options, code, message) => {
    const result = await verifySigV4(await signed(options), CREDS, { now: NOW });
    expect(result).toMatchObject({ ok: false, code });
    expect(result.ok ? '' : result.message).toMatch(message);
  });

  it('accepts a region of `regions` too, checking the signature for the region it names', async () => {
    const both = { ...CREDS, regions: ['us-east-1'] };
    const req = await signed({ region: 'us-east-1' });
    expect(await verifySigV4(req, both, { now: NOW })).toEqual({ ok: true, region: 'us-east-1' });
    const wrongSecret = await signed({ region: 'us-east-1', secretAccessKey: 'nope' });
    expect(await verifySigV4(wrongSecret, both, { now: NOW })).toMatchObject({ ok: false });
  });

  it('accepts a date just inside the five-minute window', async () => {
    const req = await signed({ datetime: '20260301T101531Z' });
    expect(await verifySigV4(req, CREDS, { now: NOW })).toEqual({ ok: true, region: CREDS.region });
  });

  it('rejects a credential scope date that differs from X-Amz-Date', async () => {
    const req = await signed();
    const auth = String(req.headers['authorization']).replace('/20260301/', '/20260302/');
    const result = await verifySigV4(withHeaders(req, { authorization: auth }), CREDS);
    expect(result).toMatchObject({ ok: false, code: 'InvalidSignatureException' });
    expect(result.ok ? '' : result.message).toMatch(/Date in Credential scope/);
  });

  describe('with a configured session token', () => {
    const withToken: SigV4Credentials = { ...CREDS, sessionToken: 'session-token-1' };

    it('accepts the matching token, which aws4fetch signs', async () => {
      const req = await signed({ sessionToken: 'session-token-1' });
      expect(req.headers['authorization']).toContain('x-amz-security-token');
      expect(await verifySigV4(req, withToken, { now: NOW })).toEqual({
        ok: true,
        region: CREDS.region,
      });
    });

    it.each([
      ['no token', undefined],
      ['another token', 'session-token-2'],
    ])('rejects %s', async (_name, token) => {
      const req = await signed(token === undefined ? {} : { sessionToken: token });
      const result = await verifySigV4(req, withToken, { now: NOW });
      expect(result).toMatchObject({ ok: false, code: 'UnrecognizedClientException' });
    });
  });

  it('accepts any signed token when none is configured', async () => {
    const req = await signed({ sessionToken: 'whatever' });
    expect(await verifySigV4(req, CREDS, { now: NOW })).toEqual({ ok: true, region: CREDS.region });
  });
});

describe('parseAmzDate', () => {
  it.each([
    ['20150830T123600Z', '2015-08-30T12:36:00.000Z'],
    ['20151330T123600Z', undefined],
    ['20150830T253600Z', undefined],
    ['2015-08-30T12:36:00Z', undefined],
    ['', undefined],
  ])('parses %j', (input, expected) => {
    expect(parseAmzDate(input)?.toISOString()).toBe(expected);
  });
});
