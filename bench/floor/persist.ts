// The persisting floor: the smallest Worker that does the same durable work as ours. It reads
// the body, sends it to the events queue in one send() and answers {"success":true}, on every
// route the load test drives. Ours is reported as a share of its rate (issue #11): the queue's
// cost is in both, so the ratio measures our own code.

//
// With SEND_BYTES bound (JSON: path → bytes), it sends the body padded with spaces to that many
// bytes: what ours puts on the queue for that route (the events enriched, and the message
// header). Against it, the ratio leaves out the cost of the bytes enrichment adds.

interface EventsQueue {
  send(body: string, options: { contentType: 'text' }): Promise<unknown>;
}

let sendBytes: Record<string, number> | undefined;

export default {
  async fetch(
    request: Request,
    env: { EVENTS: EventsQueue; SEND_BYTES?: string },
  ): Promise<Response> {
    let body = await request.text();
    if (env.SEND_BYTES !== undefined) {
      sendBytes ??= JSON.parse(env.SEND_BYTES) as Record<string, number>;
      const target = sendBytes[new URL(request.url).pathname] ?? 0;
      // The bench's bodies are ASCII: a character is a byte.
      if (target > body.length) body += ' '.repeat(target - body.length);
    }
    await env.EVENTS.send(body, { contentType: 'text' });
    return new Response('{"success":true}', {
      headers: { 'Content-Type': 'application/json' },
    });
  },
};
