import standalone from '@segment/analytics-next/dist/umd/standalone.js?raw';
import wranglerToml from '../../wrangler.toml?raw';
import { describe, expect, it } from 'vitest';
import {
  CHUNK_CACHE_CONTROL,
  CHUNKS_PATH,
  chunkFilesOf,
  ENTRY_ASSET_PATH,
  headersFile,
} from '../../src/analytics-js/assets';

describe('chunkFilesOf', () => {
  it('lists every chunk the pinned standalone build can load, by name and content hash', () => {
    expect(chunkFilesOf(standalone)).toEqual([
      '407.bundle.61efa1acb302134c434b.js',
      'ajs-destination.bundle.40628baed746e9904edc.js',
      'auto-track.bundle.f131ce01a05e3a33a8c1.js',
      'legacyVideos.bundle.c8148be87c48a2b6537a.js',
      'queryString.bundle.34b193ada8fe288d1bd1.js',
      'remoteMiddleware.bundle.063bbf80c88cda449d9c.js',
      'schemaFilter.bundle.a6a77355d52c20e3a83d.js',
      'tsub-middleware.bundle.89bf07058b3d3b126984.js',
    ]);
  });

  it('names an unnamed chunk by its id', () => {
    const runtime = 'a.u=function(t){return({1:"x"}[t]||t)+".bundle."+{1:"aa",2:"bb"}[t]+".js"}';
    expect(chunkFilesOf(runtime)).toEqual(['2.bundle.bb.js', 'x.bundle.aa.js']);
  });

  it('finds nothing in a file without webpack runtime', () => {
    expect(chunkFilesOf('console.log("hi")')).toBeUndefined();
  });
});

describe('headersFile', () => {
  it('gives the chunks, and only them, a year of immutable caching', () => {
    const rules = headersFile()
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(rules).toEqual([`${CHUNKS_PATH}*`, `  Cache-Control: ${CHUNK_CACHE_CONTROL}`]);
    expect(CHUNK_CACHE_CONTROL).toBe('public, max-age=31536000, immutable');
  });
});

describe('wrangler.toml [assets]', () => {
  it('serves ./assets, binds ASSETS and sends direct requests for the entry file to the Worker', () => {
    const section = /\[assets\]\n([\s\S]*?)(?:\n\[|$)/.exec(wranglerToml)?.[1] ?? '';
    expect(section).toContain('directory = "./assets"');
    expect(section).toContain('binding = "ASSETS"');
    expect(section).toContain(`run_worker_first = ["${ENTRY_ASSET_PATH}"]`);
  });

  it('builds the assets before every wrangler dev and deploy', () => {
    expect(wranglerToml).toMatch(/\[build\]\ncommand = "npx tsx scripts\/analytics-js-assets\.ts"/);
  });
});
