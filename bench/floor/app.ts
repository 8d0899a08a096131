// The floor: a bare Hono app on the same routes as ours that drains the body without looking at
// it and answers {"success":true}. Whatever throughput it reaches is what workerd, Miniflare's
// entry and the load generator allow on this machine; ours is reported as a share of it.
//
// It drains rather than ignores the body: a Worker that answers without consuming the request
// body makes workerd drop the keep-alive connection, and autocannon then counts thousands of
// errors with ~0.5 s latencies (measured here: 7,652 errors in 2 s at 10 connections).

import { Hono, type Context } from 'hono';

export function floorApp(): Hono {
  const app = new Hono();
  const ok = async (c: Context): Promise<Response> => {
    await c.req.arrayBuffer();
    return c.json({ success: true });
  };
  app.post('/v1/track', ok);
  app.post('/v1/batch', ok);
  return app;
}
