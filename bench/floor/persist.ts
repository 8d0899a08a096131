// The persisting floor: the smallest Worker that does the same durable work as ours. It reads
// the body, sends it to the events queue in one send() and answers {"success":true}, on every
// route the load test drives. Ours is reported as a share of its rate (issue #11): the queue's
// cost is in both, so the ratio measures our own code.

interface EventsQueue {
  send(body: string, options: { contentType: 'text' }): Promise<unknown>;
}

export default {
  async fetch(request: Request, env: { EVENTS: EventsQueue }): Promise<Response> {
    const body = await request.text();
    await env.EVENTS.send(body, { contentType: 'text' });
    return new Response('{"success":true}', {
      headers: { 'Content-Type': 'application/json' },
    });
  },
};
