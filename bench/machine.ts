// What the figures were measured on. Adapter: reads /proc, os and the installed packages.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { ROOT } from './build';

export interface Machine {
  cpu_model: string;
  cores: number;
  memory_gib: number;
  node: string;
  workerd: string;
  miniflare: string;
  wrangler: string;
  autocannon: string;
  platform: string;
  date: string;
}

function packageVersion(name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(`${ROOT}node_modules/${name}/package.json`, 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function workerdVersion(): string {
  try {
    return execFileSync(`${ROOT}node_modules/.bin/workerd`, ['--version'], { encoding: 'utf8' })
      .trim()
      .replace(/^workerd\s+/, '');
  } catch {
    return `unknown (npm workerd ${packageVersion('workerd')})`;
  }
}

export function machine(): Machine {
  return {
    cpu_model: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memory_gib: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    workerd: `${workerdVersion()} (npm workerd ${packageVersion('workerd')})`,
    miniflare: packageVersion('miniflare'),
    wrangler: packageVersion('wrangler'),
    autocannon: packageVersion('autocannon'),
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
  };
}
