// The asset copy as wrangler's [build] runs it: exactly the files analytics.js needs, byte for
// byte from the installed package (the entry file after the statement that sets its CDN, run
// here in a stand-in of the page), rewritten only when they change, stale files removed, and
// a loud failure when the package's layout is not the one this code knows.
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runInNewContext } from 'node:vm';
import { ENTRY_PRELUDE, headersFile } from '../../src/analytics-js/assets';
import { packageDir, syncAnalyticsJsAssets } from '../../scripts/analytics-js-assets';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ndc-ajs-assets-'));
  dirs.push(dir);
  return dir;
}

const umd = (file: string): string => join(packageDir(), 'dist', 'umd', file);

describe('syncAnalyticsJsAssets', () => {
  it('copies the entry file, its chunks with their maps, the licence and _headers', async () => {
    const out = await tempDir();
    const report = await syncAnalyticsJsAssets(out);
    expect(report.version).toBe('1.84.3');
    expect(report.files).toHaveLength(19);
    expect(report.files).toContain('_headers');
    expect(report.files).toContain('analytics-next/LICENSE.md');
    expect(report.files).toContain('analytics-next/standalone.js');
    expect(report.files).toContain(
      'analytics-next/bundles/queryString.bundle.34b193ada8fe288d1bd1.js',
    );
    expect(report.files).toContain(
      'analytics-next/bundles/queryString.bundle.34b193ada8fe288d1bd1.js.map',
    );
    expect([...report.written].sort()).toEqual(report.files);
    // Nothing else of dist/umd: not the npm UMD build, not the precompressed copies.
    expect(report.files.filter((f) => /index\.js|\.gz$/.test(f))).toEqual([]);

    expect(await readFile(join(out, 'analytics-next', 'standalone.js'), 'utf8')).toBe(
      ENTRY_PRELUDE + (await readFile(umd('standalone.js'), 'utf8')),
    );
    const chunk = 'auto-track.bundle.f131ce01a05e3a33a8c1.js';
    expect(await readFile(join(out, 'analytics-next', 'bundles', chunk))).toEqual(
      await readFile(umd(chunk)),
    );
    expect(await readFile(join(out, 'analytics-next', 'LICENSE.md'), 'utf8')).toBe(
      await readFile(join(packageDir(), 'LICENSE.MD'), 'utf8'),
    );
    expect(await readFile(join(out, '_headers'), 'utf8')).toBe(headersFile());
  });

  it('writes nothing on a rerun, rewrites a changed file and removes stale ones', async () => {
    const out = await tempDir();
    await syncAnalyticsJsAssets(out);
    expect((await syncAnalyticsJsAssets(out)).written).toEqual([]);

    await writeFile(join(out, 'analytics-next', 'standalone.js'), 'tampered');
    const stale = join(out, 'analytics-next', 'bundles', 'old.bundle.00000000000000000000.js');
    await writeFile(stale, 'old');
    const report = await syncAnalyticsJsAssets(out);
    expect(report.written).toEqual(['analytics-next/standalone.js']);
    expect(report.removed).toEqual(['analytics-next/bundles/old.bundle.00000000000000000000.js']);
    await expect(readFile(stale)).rejects.toThrow(/ENOENT/);
  });

  it('fails when the entry file names a chunk the package does not have', async () => {
    const pkg = await tempDir();
    await cp(packageDir(), pkg, { recursive: true, filter: (src) => !src.includes('/src') });
    await rm(join(pkg, 'dist', 'umd', 'queryString.bundle.34b193ada8fe288d1bd1.js'));
    await expect(syncAnalyticsJsAssets(await tempDir(), pkg)).rejects.toThrow(
      /standalone\.js loads queryString\.bundle\.34b193ada8fe288d1bd1\.js, not in dist\/umd/,
    );
  });

  it('fails when the entry file has no webpack chunk map', async () => {
    const pkg = await tempDir();
    await mkdir(join(pkg, 'dist', 'umd'), { recursive: true });
    await writeFile(join(pkg, 'package.json'), '{"version":"9.9.9"}');
    await writeFile(join(pkg, 'LICENSE.MD'), 'MIT');
    await writeFile(join(pkg, 'dist', 'umd', 'standalone.js'), 'console.log(1)');
    await expect(syncAnalyticsJsAssets(await tempDir(), pkg)).rejects.toThrow(
      /9\.9\.9: no webpack chunk map/,
    );
  });
});

/** `window.analytics` (or the snippet's global) after the prelude ran for a script at `src`. */
function cdnAfterPrelude(
  src: string,
  analytics: Record<string, unknown> | undefined,
  key?: string,
) {
  const name = key ?? 'analytics';
  const window: Record<string, unknown> = analytics === undefined ? {} : { [name]: analytics };
  const script = {
    src,
    getAttribute: (attr: string) =>
      attr === 'data-global-segment-analytics-key' ? (key ?? null) : null,
  };
  runInNewContext(ENTRY_PRELUDE, { window, document: { currentScript: script } });
  return (window[name] as Record<string, unknown> | undefined)?.['_cdn'];
}

describe('the entry file prelude', () => {
  it("sets the snippet's _cdn to the host the script came from, over http too", () => {
    expect(cdnAfterPrelude('http://localhost:8787/analytics.js/v1/k/analytics.min.js', {})).toBe(
      'http://localhost:8787',
    );
    expect(
      cdnAfterPrelude('https://events.example.com/analytics.js/v1/k/analytics.min.js', {}),
    ).toBe('https://events.example.com');
    // Behind a path, as analytics.js's own regex reads it (src/lib/parse-cdn.ts).
    expect(cdnAfterPrelude('http://shop.test/seg/analytics.js/v1/k/analytics.min.js', {})).toBe(
      'http://shop.test/seg',
    );
    expect(
      cdnAfterPrelude('http://127.0.0.1:9/analytics.js/v1/k/analytics.min.js', {}, 'ajs'),
    ).toBe('http://127.0.0.1:9');
  });

  it("leaves a page's own _cdn, a foreign script URL and a page without the snippet alone", () => {
    const own = { _cdn: 'https://cdn.example' };
    expect(cdnAfterPrelude('http://localhost:8787/analytics.js/v1/k/analytics.min.js', own)).toBe(
      'https://cdn.example',
    );
    expect(cdnAfterPrelude('http://localhost:8787/other.js', {})).toBeUndefined();
    expect(() =>
      cdnAfterPrelude('http://localhost:8787/analytics.js/v1/k/analytics.min.js', undefined),
    ).not.toThrow();
  });
});
