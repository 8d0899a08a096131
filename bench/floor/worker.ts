// Entry of the floor Worker (bench/floor/app.ts), bundled with wrangler like ours.

import { floorApp } from './app';

const app = floorApp();

export default {
  fetch: (request: Request): Response | Promise<Response> => app.fetch(request),
};
