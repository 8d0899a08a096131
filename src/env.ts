// The Worker's bindings, vars and secrets (names are the public contract: see README
// "Configuration"). `worker-configuration.d.ts` (from `npm run types`) declares what
// wrangler.toml binds; this file adds the secrets, which wrangler cannot see, and narrows
// optional ones.

export interface Env extends Omit<Cloudflare.Env, 'EVENTS' | 'ALLOWED_ORIGINS' | 'ANONYMIZE_IP'> {
  /** Producer binding to queue `ndc-segment-events`; bodies are text (src/queue/message.ts). */
  EVENTS: Queue<string>;
  /** Optional Workers Rate Limiting binding, keyed by source. */
  RATE_LIMITER?: RateLimit;

  /** Secret (or var): `key` or `key=sourceName`, comma-separated. Unset: every call is 401. */
  WRITE_KEYS?: string;
  /** Comma-separated CORS origins; empty or unset: any origin. */
  ALLOWED_ORIGINS?: string;
  /** "true" masks context.ip. */
  ANONYMIZE_IP?: string;
}

/** Reads a boolean var the way `wrangler dev --var NAME:true` and [vars] both set it. */
export function flag(value: string | boolean | undefined): boolean {
  if (typeof value === 'boolean') return value;
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.trim().toLowerCase());
}
