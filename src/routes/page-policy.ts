// The response headers of an operator page (the debugger, the status page): a
// Content-Security-Policy that allows the page's own inline style and script by their SHA-256
// hashes, requests to its own origin (its API, the debugger's WebSocket) and nothing else; never
// cached, never framed, no referrer. Adapter (crypto.subtle), one policy computed per page.

const encoder = new TextEncoder();

function base64(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)));
}

async function hash(text: string): Promise<string> {
  return `'sha256-${base64(await crypto.subtle.digest('SHA-256', encoder.encode(text)))}'`;
}

// Keyed by the page's script: each page's policy is hashed once per isolate.
const policies = new Map<string, Promise<string>>();

function pagePolicy(script: string, style: string): Promise<string> {
  let policy = policies.get(script);
  if (policy === undefined) {
    policy = (async () =>
      [
        "default-src 'none'",
        `script-src ${await hash(script)}`,
        `style-src ${await hash(style)}`,
        "connect-src 'self'",
        "img-src 'self' data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ].join('; '))();
    policies.set(script, policy);
  }
  return policy;
}

/** The headers to serve a page whose only script and style are the inline `script` and `style`. */
export async function pageHeaders(script: string, style: string): Promise<Record<string, string>> {
  return {
    'Content-Security-Policy': await pagePolicy(script, style),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  };
}
