// The ReDoS checker behind tracking plans' save: recheck (makenowjust-labs/recheck, pinned in
// package.json), its pure-JavaScript build, loaded only when a plan is saved, so ingest isolates
// never parse or run it. Adapter: the rules for what a plan may hold are in src/plans/patterns.ts.
//
// An expression is accepted only when recheck's automaton checker proves it linear (or better)
// both as the validator runs it (unanchored, flag `u`) and anchored at both ends (`^(?:…)$`):
// the second refuses the ambiguous loops of the ReDoS literature, `(a|aa)+` and the like, which
// are harmless only while nothing after them can fail. What the automaton cannot decide
// (backreferences, lookbehind, expressions too large for it) is refused too: the bound on an
// event's cost holds only for what is proven.

import type { Diagnostics, Parameters } from 'recheck';
import type { RegexCheck, RegexVerdict } from './patterns';
import { REGEX_CHECK_MAX_NFA_SIZE, REGEX_CHECK_TIMEOUT_MS, REGEX_VERDICTS_CACHED } from './limits';

type CheckSync = (source: string, flags: string, params?: Parameters) => Diagnostics;

let loaded: Promise<CheckSync> | undefined;

async function checker(): Promise<CheckSync> {
  loaded ??= import('recheck/lib/browser.js').then((mod) => {
    const m = mod as { checkSync?: CheckSync; default?: { checkSync: CheckSync } };
    const checkSync = m.checkSync ?? m.default?.checkSync;
    if (checkSync === undefined) throw new Error('recheck has no checkSync');
    return checkSync;
  });
  return loaded;
}

const PARAMS: Parameters = {
  checker: 'automaton',
  timeout: REGEX_CHECK_TIMEOUT_MS,
  maxNFASize: REGEX_CHECK_MAX_NFA_SIZE,
};

/** Why recheck's answer refuses the expression; undefined when it proves it linear. */
export function refusal(d: Diagnostics): string | undefined {
  switch (d.status) {
    case 'safe':
      return undefined;
    case 'vulnerable': {
      const kind =
        d.complexity.type === 'exponential'
          ? 'exponential'
          : `polynomial (degree ${d.complexity.degree})`;
      return `backtracks in ${kind} time, e.g. on ${d.attack.pattern}; a plan accepts only expressions proven linear`;
    }
    case 'unknown':
      return (
        `cannot be proven linear (${d.error.kind}` +
        `${'message' in d.error ? `: ${d.error.message}` : ''}); ` +
        'a plan accepts only expressions proven linear (no backreferences or lookbehind)'
      );
  }
}

const verdicts = new Map<string, RegexVerdict>();

/** recheck's verdict on one expression, as a plan would run it; cached in the isolate. */
export const recheckRegex: RegexCheck = async (source) => {
  const cached = verdicts.get(source);
  if (cached !== undefined) return cached;
  const checkSync = await checker();
  const why =
    refusal(checkSync(source, 'u', PARAMS)) ?? refusal(checkSync(`^(?:${source})$`, 'u', PARAMS));
  const verdict: RegexVerdict = why === undefined ? { linear: true } : { linear: false, why };
  if (verdicts.size >= REGEX_VERDICTS_CACHED) verdicts.clear();
  verdicts.set(source, verdict);
  return verdict;
};
