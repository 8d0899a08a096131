// analytics.js served first-party, through the Worker: the entry file for known write keys
// only, the chunks and licence as static assets with their cache headers.
// In the pool, SELF reaches the Worker directly (no asset router), so chunks are fetched here
// through the ASSETS binding, which applies the `_headers` rules; the routing in front of the
// Worker is proven under wrangler dev (test/e2e/first-party.e2e.test.ts).
import standalone from '@segment/analytics-next/dist/umd/standalone.js?raw';
import { SELF } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CHUNK_CACHE_CONTROL,
  CHUNKS_PATH,
  chunkFilesOf,
  ENTRY_CACHE_CONTROL,
  ENTRY_PRELUDE,
  LICENSE_ASSET_PATH,
} from '../../src/analytics-js/assets';
import type { Env } from '../../src/env';
import { BASE_URL, harness } from '../support/worker';

const ENTRY = '/analytics.js/v1/test-key-1/analytics.min.js';
const assets = (env as unknown as Env).ASSETS;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('GET /analytics.js/v1/:writeKey/analytics.min.js', () => {
  it('serves the pinned standalone build for a known key, cached for minutes', async () => {
    const res = await SELF.fetch(`${BASE_URL}${ENTRY}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(/^text\/javascript/);
    expect(res.headers.get('Cache-Control')).toBe(ENTRY_CACHE_CONTROL);
    expect(ENTRY_CACHE_CONTROL).toBe('public, max-age=300');
    expect(res.headers.get('ETag')).toMatch(/^"[0-9a-f]+"$/);
    // The package's build, after the statement that sets its CDN (src/analytics-js/assets.ts).
    expect(await res.text()).toBe(ENTRY_PRELUDE + standalone);
  });

  it('answers a revalidation with 304 and the same cache header', async () => {
    const first = await SELF.fetch(`${BASE_URL}${ENTRY}`);
    await first.arrayBuffer();
    const etag = first.headers.get('ETag') ?? '';
    const res = await SELF.fetch(`${BASE_URL}${ENTRY}`, { headers: { 'If-None-Match': etag } });
    expect(res.status).toBe(304);
    expect(res.headers.get('Cache-Control')).toBe(ENTRY_CACHE_CONTROL);
    expect(await res.text()).toBe('');
  });

  it('answers HEAD without a body', async () => {
    const res = await SELF.fetch(`${BASE_URL}${ENTRY}`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe(ENTRY_CACHE_CONTROL);
    expect(await res.text()).toBe('');
  });

  it('answers 404 for an unknown write key, as the settings route does', async () => {
    for (const path of [
      '/analytics.js/v1/unknown/analytics.min.js',
      '/v1/projects/unknown/settings',
    ]) {
      const res = await SELF.fetch(`${BASE_URL}${path}`);
      expect(res.status).toBe(404);
      expect(res.headers.get('Cache-Control')).toBeNull();
      expect(await res.json()).toEqual({
        success: false,
        error: { code: 'not_found', message: 'no project has this write key' },
      });
    }
  });

  it('answers other methods with 405', async () => {
    const res = await SELF.fetch(`${BASE_URL}${ENTRY}`, { method: 'POST', body: '' });
    expect(res.status).toBe(405);
    expect(res.headers.get('Allow')).toBe('GET, OPTIONS');
  });

  it('answers 500 without detail when the assets were not built into the deploy', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const res = await harness().fetch(ENTRY, undefined, {
      ASSETS: { fetch: async () => new Response('gone', { status: 404 }) } as unknown as Fetcher,
    });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      success: false,
      error: { code: 'internal_error', message: 'internal error' },
    });
    expect(logged).toHaveBeenCalledWith('analytics.js entry asset answered 404');
  });
});

describe('static assets: chunks and licence', () => {
  const chunks = chunkFilesOf(standalone) ?? [];

  it('finds the chunk names in the entry file (so the cases below are not empty)', () => {
    expect(chunks.length).toBeGreaterThan(0);
  });

  it.each(chunks)('serves %s with a year of immutable caching', async (name) => {
    for (const file of [name, `${name}.map`]) {
      const res = await assets.fetch(`${BASE_URL}${CHUNKS_PATH}${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get('Cache-Control')).toBe(CHUNK_CACHE_CONTROL);
      const body = await res.text();
      if (file === name) {
        expect(res.headers.get('Content-Type')).toMatch(/^text\/javascript/);
        expect(body).toMatch(/webpackChunk/);
      }
    }
  });

  it('serves the package licence and never the _headers file', async () => {
    const licence = await assets.fetch(`${BASE_URL}${LICENSE_ASSET_PATH}`);
    expect(licence.status).toBe(200);
    const text = await licence.text();
    expect(text).toContain('The MIT License');
    expect(text).toContain('Segment');
    const headers = await assets.fetch(`${BASE_URL}/_headers`);
    expect(headers.status).toBe(404);
    await headers.arrayBuffer();
  });

  it('has no chunk the entry file does not name', async () => {
    const res = await assets.fetch(`${BASE_URL}${CHUNKS_PATH}nope.bundle.00000000000000000000.js`);
    expect(res.status).toBe(404);
    await res.arrayBuffer();
  });
});
