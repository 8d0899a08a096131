// Bearer-token checks for the operator endpoints (/admin/* with ADMIN_TOKEN, /metrics with
// METRICS_TOKEN). Compares SHA-256 digests in constant time.

import { ingestError } from '../segment/errors';
import { IngestHttpError } from './error-response';

const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
}

/** Whether `header` is `Bearer <secret>`; digests make the comparison length-independent. */
export async function bearerMatches(secret: string, header: string | undefined): Promise<boolean> {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  const presented = await digest(m?.[1] ?? '');
  return crypto.subtle.timingSafeEqual(await digest(secret), presented) && m !== null;
}

/** Throws 401 unless the request carries `Bearer <secret>`; an unset secret disables the route. */
export async function requireBearer(
  secret: string | undefined,
  header: string | undefined,
  name: string,
): Promise<void> {
  if (secret === undefined || secret === '') {
    throw new IngestHttpError(
      ingestError('unauthorized', `this endpoint is disabled until ${name} is set`),
    );
  }
  if (!(await bearerMatches(secret, header))) {
    throw new IngestHttpError(
      ingestError('unauthorized', `a valid Authorization: Bearer ${name} is required`),
    );
  }
}
