// The docs keep up with the code: every metric, setting, binding, route and error code the code
// defines is documented, every relative link in README.md and docs/ resolves (anchors included),
// and every table fits in 100 columns.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../../src/metrics/catalog';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const DOC_FILES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const ALL_DOCS = DOC_FILES.map(read).join('\n');

/** `[vars]` names of wrangler.toml. */
function tomlVars(): string[] {
  const toml = read('wrangler.toml');
  const vars = toml.slice(toml.indexOf('[vars]'), toml.indexOf('\n[', toml.indexOf('[vars]') + 1));
  return [...vars.matchAll(/^([A-Z][A-Z0-9_]*) = /gm)].map((m) => m[1] ?? '');
}

/** Field names of the Env interface (secrets, vars and bindings). */
function envFields(): string[] {
  const env = read('src/env.ts');
  const body = env.slice(
    env.indexOf('export interface Env'),
    env.indexOf('\n}', env.indexOf('export interface Env')),
  );
  return [...body.matchAll(/^\s+([A-Z][A-Z0-9_]*)\??:/gm)].map((m) => m[1] ?? '');
}

/** Literal paths of the routes in src/app.ts (parameters as written, e.g. `:writeKey`). */
function routes(): string[] {
  const app = read('src/app.ts');
  return [...app.matchAll(/app\.(?:get|post|put|delete)\(\s*'([^']+)'/g)].map((m) => m[1] ?? '');
}

/** Error codes of the one error vocabulary. */
function errorCodes(): string[] {
  const errors = read('src/segment/errors.ts');
  const union = errors.slice(
    errors.indexOf('export type IngestReason'),
    errors.indexOf(';', errors.indexOf('export type IngestReason')),
  );
  return [...union.matchAll(/'([a-z_]+)'/g)].map((m) => m[1] ?? '');
}

/** GitHub's heading anchors of a Markdown file. */
function anchors(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/^#{1,6} (.+)$/gm)) {
    out.add(
      (m[1] ?? '')
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    );
  }
  return out;
}

describe('the docs', () => {
  it('name every metric', () => {
    const observability = read('docs/observability.md');
    expect(METRIC_NAMES.filter((name) => !observability.includes(`\`${name}\``))).toEqual([]);
  });

  it('name every var, secret and binding', () => {
    const configuration = read('docs/configuration.md');
    const names = [...new Set([...tomlVars(), ...envFields()])];
    expect(names.length).toBeGreaterThan(20);
    expect(names.filter((name) => !configuration.includes(`\`${name}\``))).toEqual([]);
  });

  it('name every route', () => {
    const found = routes();
    expect(found.length).toBeGreaterThan(5);
    expect(found.filter((path) => !ALL_DOCS.includes(path))).toEqual([]);
  });

  it('name every error code', () => {
    const api = read('docs/api.md');
    expect(errorCodes().filter((code) => !api.includes(`\`${code}\``))).toEqual([]);
  });

  it('link only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const file of DOC_FILES) {
      const text = read(file);
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1] ?? '';
        if (/^[a-z]+:/.test(target)) continue;
        const [path = '', anchor] = target.split('#');
        const resolved = path === '' ? join(ROOT, file) : join(ROOT, dirname(file), path);
        if (!existsSync(resolved)) {
          broken.push(`${file}: ${target}`);
          continue;
        }
        if (anchor !== undefined && resolved.endsWith('.md')) {
          if (!anchors(readFileSync(resolved, 'utf8')).has(anchor))
            broken.push(`${file}: ${target}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('show shell blocks that work pasted whole: no prompts, every output line a comment', () => {
    const unpasteable: string[] = [];
    for (const file of DOC_FILES) {
      for (const block of read(file).matchAll(/^( *)```(?:sh|bash)\n([\s\S]*?)\n\1```/gm)) {
        // Lines inside a here-document, a quoted string or after a `\` continue a command.
        let heredocEnd: string | undefined;
        let inQuote = false;
        let continued = false;
        for (const line of (block[2] ?? '').split('\n')) {
          if (heredocEnd !== undefined) {
            if (line.trim() === heredocEnd) heredocEnd = undefined;
            continue;
          }
          // A prompt, or a line of output shown as if it were a command.
          if (!inQuote && !continued && /^\s*(\$ |[{["]|\w+_total\b)/.test(line)) {
            unpasteable.push(`${file}: ${line}`);
          }
          heredocEnd = /<<-?\s*'?(\w+)'?\s*$/.exec(line)?.[1];
          if ((line.match(/'/g) ?? []).length % 2 === 1) inQuote = !inQuote;
          continued = line.endsWith('\\');
        }
      }
    }
    expect(unpasteable).toEqual([]);
  });

  it('keep every table within 100 columns', () => {
    const wide: string[] = [];
    for (const file of DOC_FILES) {
      read(file)
        .split('\n')
        .forEach((line, i) => {
          if (line.startsWith('|') && [...line].length > 100) wide.push(`${file}:${i + 1}`);
        });
    }
    expect(wide).toEqual([]);
  });
});
