// Copies analytics.js from the pinned @segment/analytics-next package into the Worker's static
// assets directory (wrangler.toml [assets], gitignored): the standalone build, the chunks it
// names with their source maps, the package's MIT licence, and the `_headers` rules. The layout
// and cache policy are src/analytics-js/assets.ts. Files are rewritten only when their bytes
// change and anything else in the directory is removed, so a rerun is cheap and an upgrade
// leaves no stale chunks. wrangler runs it before `dev`, `deploy` and `types` ([build] in
// wrangler.toml); scripts/stack.ts (`npm start`, the e2e tests) and the workers tests' global
// setup run it first too.
// Usage: tsx scripts/analytics-js-assets.ts [outDir]   (default: assets)
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  chunkFilesOf,
  CHUNKS_PATH,
  ENTRY_ASSET_PATH,
  entryFile,
  HEADERS_FILE,
  headersFile,
  LICENSE_ASSET_PATH,
} from '../src/analytics-js/assets.ts';

const PACKAGE = '@segment/analytics-next';
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// wrangler.toml [assets] directory.
export const DEFAULT_ASSETS_DIR = join(root, 'assets');

export interface AssetsReport {
  version: string;
  /** Paths written, relative to the assets directory ('/'-separated). */
  written: string[];
  /** Paths removed because the package no longer has them. */
  removed: string[];
  /** Every path the directory now holds. */
  files: string[];
}

/** The installed package's directory, found the way Node resolves it from this repository. */
export function packageDir(): string {
  const require = createRequire(join(root, 'package.json'));
  return dirname(require.resolve(`${PACKAGE}/package.json`));
}

/** What the assets directory must hold: relative path -> bytes. */
async function wanted(pkg: string): Promise<{ version: string; files: Map<string, Buffer> }> {
  const manifest = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')) as {
    version?: unknown;
  };
  const version = String(manifest.version);
  const umd = join(pkg, 'dist', 'umd');
  const entry = await readFile(join(umd, 'standalone.js'));
  const chunks = chunkFilesOf(entry.toString('utf8'));
  if (chunks === undefined || chunks.length === 0) {
    throw new Error(
      `${PACKAGE} ${version}: no webpack chunk map in dist/umd/standalone.js; ` +
        'its build layout changed, check src/analytics-js/assets.ts',
    );
  }
  const files = new Map<string, Buffer>();
  const asset = (path: string): string => path.replace(/^\//, '');
  files.set(asset(ENTRY_ASSET_PATH), Buffer.from(entryFile(entry.toString('utf8')), 'utf8'));
  files.set(asset(LICENSE_ASSET_PATH), await readFile(join(pkg, 'LICENSE.MD')));
  const present = new Set(await readdir(umd));
  for (const chunk of chunks) {
    for (const name of [chunk, `${chunk}.map`]) {
      if (!present.has(name)) {
        throw new Error(`${PACKAGE} ${version}: standalone.js loads ${name}, not in dist/umd`);
      }
      files.set(asset(`${CHUNKS_PATH}${name}`), await readFile(join(umd, name)));
    }
  }
  files.set(HEADERS_FILE, Buffer.from(headersFile(), 'utf8'));
  return { version, files };
}

async function listFiles(dir: string, base = dir): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(path, base)));
    else out.push(relative(base, path).split(sep).join('/'));
  }
  return out;
}

async function sameBytes(path: string, bytes: Buffer): Promise<boolean> {
  try {
    return (await readFile(path)).equals(bytes);
  } catch {
    return false;
  }
}

/** Brings `outDir` to exactly the files analytics.js needs; returns what changed. */
export async function syncAnalyticsJsAssets(
  outDir: string = DEFAULT_ASSETS_DIR,
  pkg: string = packageDir(),
): Promise<AssetsReport> {
  const { version, files } = await wanted(pkg);
  const written: string[] = [];
  for (const [path, bytes] of files) {
    const target = join(outDir, ...path.split('/'));
    if (await sameBytes(target, bytes)) continue;
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, bytes);
    written.push(path);
  }
  const removed = (await listFiles(outDir)).filter((path) => !files.has(path));
  for (const path of removed) await rm(join(outDir, ...path.split('/')), { force: true });
  return { version, written, removed, files: [...files.keys()].sort() };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = resolve(process.argv[2] ?? DEFAULT_ASSETS_DIR);
  const report = await syncAnalyticsJsAssets(outDir);
  console.log(
    `analytics.js ${report.version}: ${report.files.length} files in ${relative(process.cwd(), outDir) || '.'}` +
      ` (${report.written.length} written, ${report.removed.length} removed)`,
  );
}
