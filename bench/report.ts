// Markdown-ish tables for stdout (pasteable into a README). Pure formatting.

export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length), 3),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 3)).join(' | ')} |`;
  return [
    line(headers),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...rows.map(line),
  ].join('\n');
}

/** 12,345 */
export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
}

/** Fixed decimals, with thousands separators. */
export function num(n: number | undefined, digits = 2): string {
  if (n === undefined || !Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** Significant figures for small numbers (per-event costs, ops per event). */
export function sig(n: number | undefined, digits = 3): string {
  if (n === undefined || !Number.isFinite(n)) return 'n/a';
  if (n === 0) return '0';
  return Number(n.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 10 });
}

export function usd(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return 'n/a';
  return n >= 1 ? `$${num(n, 2)}` : `$${sig(n, 3)}`;
}

export function pct(n: number): string {
  return `${num(n * 100, 0)}%`;
}

export function verdict(pass: boolean): string {
  return pass ? 'PASS' : 'FAIL';
}
