// SigV4 verification for the local Firehose endpoint, independent of the signer under test:
// the request is rebuilt from its signed headers and signed again with @smithy/signature-v4 (the
// AWS SDK's signer), then the two signatures are compared in constant time. Pure apart from the
// hashing; the clock is a parameter.

import { createHash, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
export const FIREHOSE_SIGNING_SERVICE = 'firehose';

// AWS SigV4 ("Elements of an AWS API request signature"): a request must reach AWS within five
// minutes of its X-Amz-Date, either side, or it is rejected as expired.
export const SIGV4_MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

// The X-Amz-Content-Sha256 value that opts out of payload signing (an S3 feature); Firehose
// requests must sign their body, so it is refused.
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  // More regions a signature may be scoped to (a collector routing sources to other regions,
  // FIREHOSE_ROUTES, through one local endpoint); each call is still checked for its own.
  regions?: readonly string[];
  // When set, requests must carry this X-Amz-Security-Token; when unset any token is accepted
  // (it is still covered by the signature if the client signed it).
  sessionToken?: string;
  // Defaults to `firehose`; the AWS test-suite vectors use `service`.
  service?: string;
}

export interface SigV4Request {
  method: string;
  // The raw (still percent-encoded) path, as on the request line.
  path: string;
  // The raw query string, without the leading `?`.
  query: string;
  // Lower-case names, as node:http delivers them.
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  body: Uint8Array;
}

export type SigV4ErrorCode =
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'InvalidSignatureException'
  | 'UnrecognizedClientException';

export type SigV4Result =
  { ok: true; region: string } | { ok: false; code: SigV4ErrorCode; message: string };

export interface SigV4Options {
  // The verifier's clock. Without it the X-Amz-Date freshness check is skipped (golden vectors).
  now?: Date;
  maxClockSkewMs?: number;
}

interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

// Wording of the real services' answers, so logs read the same locally and in AWS.
const MESSAGE_MISSING_TOKEN = 'Missing Authentication Token';
const MESSAGE_BAD_TOKEN = 'The security token included in the request is invalid.';
const MESSAGE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your ' +
  'AWS Secret Access Key and signing method. Consult the service documentation for details.';

function fail(code: SigV4ErrorCode, message: string): SigV4Result {
  return { ok: false, code, message };
}

function headerValue(headers: SigV4Request['headers'], name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(',');
}

/** Parses `AWS4-HMAC-SHA256 Credential=AK/date/region/service/aws4_request, SignedHeaders=…`. */
export function parseAuthorization(header: string): ParsedAuthorization | string {
  const space = header.indexOf(' ');
  if (space < 0) return 'Authorization header requires a signing algorithm and parameters.';
  const algorithm = header.slice(0, space);
  if (algorithm !== SIGV4_ALGORITHM) return `Unsupported signing algorithm ${algorithm}.`;
  const params = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return `Authorization parameter is not a key=value pair: ${part.trim()}`;
    params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = params.get('Credential');
  const signedHeaders = params.get('SignedHeaders');
  const signature = params.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    return 'Authorization header requires Credential, SignedHeaders and Signature parameters.';
  }
  const scope = credential.split('/');
  const [accessKeyId, date, region, service, terminator] = scope;
  if (
    scope.length !== 5 ||
    accessKeyId === undefined ||
    date === undefined ||
    region === undefined ||
    service === undefined ||
    terminator !== 'aws4_request'
  ) {
    return `Credential is not <key>/<date>/<region>/<service>/aws4_request: ${credential}`;
  }
  if (!/^[0-9a-f]{64}$/.test(signature)) return 'Signature must be 64 lower-case hex digits.';
  const names = signedHeaders.split(';');
  if (names.some((name) => name === '' || name !== name.toLowerCase())) {
    return `SignedHeaders must be lower-case names separated by ';': ${signedHeaders}`;
  }
  return { accessKeyId, date, region, service, signedHeaders: names, signature };
}

/** `20150830T123600Z` → Date, or undefined when it is not that exact basic ISO-8601 form. */
export function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const date = new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 0, h ?? 0, mi ?? 0, s ?? 0));
  // Reject rollovers such as month 13 or 25:00.
  return date.toISOString().replace(/[-:]|\.\d{3}/g, '') === value ? date : undefined;
}

// Constant-time string equality: timingSafeEqual needs equal lengths, so compare digests.
function sameSecret(a: string, b: string): boolean {
  const digest = (v: string): Buffer => createHash('sha256').update(v, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

async function sha256Hex(body: Uint8Array): Promise<string> {
  const hash = new Sha256();
  hash.update(body);
  return Buffer.from(await hash.digest()).toString('hex');
}

function parseQuery(raw: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    const prior = out[key];
    if (prior === undefined) out[key] = value;
    else out[key] = Array.isArray(prior) ? [...prior, value] : [prior, value];
  }
  return out;
}

/**
 * Verifies an AWS SigV4 `Authorization` header. Checks, in the order AWS reports them: header
 * present and well formed, access key id, session token (only if configured), credential scope
 * (date, region, service), clock skew, payload hash header, then the signature itself.
 */
export async function verifySigV4(
  req: SigV4Request,
  creds: SigV4Credentials,
  options: SigV4Options = {},
): Promise<SigV4Result> {
  const service = creds.service ?? FIREHOSE_SIGNING_SERVICE;
  const authorization = headerValue(req.headers, 'authorization');
  if (authorization === undefined || authorization === '') {
    return fail('MissingAuthenticationTokenException', MESSAGE_MISSING_TOKEN);
  }
  const auth = parseAuthorization(authorization);
  if (typeof auth === 'string') return fail('IncompleteSignatureException', auth);

  const amzDate = headerValue(req.headers, 'x-amz-date');
  if (amzDate === undefined) {
    return fail('IncompleteSignatureException', 'Authorization requires an X-Amz-Date header.');
  }
  const signingDate = parseAmzDate(amzDate);
  if (signingDate === undefined) {
    return fail('IncompleteSignatureException', `X-Amz-Date is not YYYYMMDDTHHMMSSZ: ${amzDate}`);
  }
  for (const required of ['host', 'x-amz-date']) {
    if (!auth.signedHeaders.includes(required)) {
      return fail('IncompleteSignatureException', `'${required}' must be a SignedHeader.`);
    }
  }
  for (const name of auth.signedHeaders) {
    if (headerValue(req.headers, name) === undefined) {
      return fail('IncompleteSignatureException', `Signed header '${name}' is missing.`);
    }
  }

  if (!sameSecret(auth.accessKeyId, creds.accessKeyId)) {
    return fail('UnrecognizedClientException', MESSAGE_BAD_TOKEN);
  }
  if (creds.sessionToken !== undefined) {
    const token = headerValue(req.headers, 'x-amz-security-token');
    if (token === undefined || !sameSecret(token, creds.sessionToken)) {
      return fail('UnrecognizedClientException', MESSAGE_BAD_TOKEN);
    }
  }

  const shortDate = amzDate.slice(0, 8);
  if (auth.date !== shortDate) {
    return fail(
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from ` +
        `HTTP: '${auth.date}' != '${shortDate}', from '${amzDate}'.`,
    );
  }
  if (auth.region !== creds.region && !(creds.regions ?? []).includes(auth.region)) {
    return fail(
      'InvalidSignatureException',
      `Credential should be scoped to a valid region, not '${auth.region}'.`,
    );
  }
  if (auth.service !== service) {
    return fail(
      'InvalidSignatureException',
      `Credential should be scoped to correct service: '${service}'.`,
    );
  }
  if (options.now !== undefined) {
    const skew = signingDate.getTime() - options.now.getTime();
    const max = options.maxClockSkewMs ?? SIGV4_MAX_CLOCK_SKEW_MS;
    if (Math.abs(skew) > max) {
      return fail(
        'InvalidSignatureException',
        `Signature ${skew < 0 ? 'expired' : 'not yet current'}: ${amzDate} is more than ` +
          `${max / 1000}s from the server time ${options.now.toISOString()}.`,
      );
    }
  }

  // The signer trusts X-Amz-Content-Sha256 as the payload hash; AWS checks it against the body,
  // and so must we, or a body could be swapped under a valid signature.
  const claimedHash = headerValue(req.headers, 'x-amz-content-sha256');
  if (claimedHash !== undefined) {
    if (claimedHash === UNSIGNED_PAYLOAD || claimedHash !== (await sha256Hex(req.body))) {
      return fail(
        'InvalidSignatureException',
        'The provided x-amz-content-sha256 header does not match what was computed.',
      );
    }
  }

  // Rebuild from the signed headers only: whatever the client did not sign (content-type,
  // content-length, user-agent …) must not influence the result.
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) headers[name] = headerValue(req.headers, name) ?? '';
  const host = headers['host'] ?? '';
  const signer = new SignatureV4({
    service,
    region: auth.region,
    credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
    sha256: Sha256,
    // With a checksum the signer adds (and signs) x-amz-content-sha256, which aws4fetch does not
    // send for firehose; the signature would never match (TOOLCHAIN.md, Firehose signing).
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: req.method.toUpperCase(),
      protocol: 'http:',
      hostname: host.replace(/:\d+$/, ''),
      path: req.path,
      query: parseQuery(req.query),
      headers,
      body: req.body,
    },
    // Force-sign exactly the client's list, even names smithy would otherwise skip.
    { signingDate, signableHeaders: new Set(auth.signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(signed.headers['authorization'] ?? '')?.[1];
  const expectedList = /SignedHeaders=([^,]+)/.exec(signed.headers['authorization'] ?? '')?.[1];
  if (
    expected === undefined ||
    expectedList !== auth.signedHeaders.join(';') ||
    !timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(auth.signature, 'hex'))
  ) {
    return fail('InvalidSignatureException', MESSAGE_MISMATCH);
  }
  return { ok: true, region: auth.region };
}
