// The worst accepted expressions of a tracking plan, each with the 32 KB string that makes it
// work hardest: the bench times enforcePlan on one event carrying that string
// (`stage.plan.pattern32k.*`), and test/plans/bench-patterns.unit.test.ts proves recheck accepts
// every one of them, so the figure is the cost of something a plan may really hold. Pure data.

import { EVENT_MAX_BYTES } from '../../src/segment/limits';

export interface PatternCase {
  /** Case name suffix. */
  id: string;
  /** What the property's schema says: a `pattern`, or a `format` the validator runs. */
  schema: { pattern: string } | { format: string };
  /** Why this string is the hard one. */
  why: string;
  attack: (chars: number) => string;
}

// The string fills the event up to EVENT_MAX_BYTES but for the rest of the event (type, name,
// ids, timestamps: under 512 bytes).
export const PATTERN_STRING_CHARS = EVENT_MAX_BYTES - 512;

const fill = (unit: string, chars: number, tail = ''): string =>
  unit.repeat(Math.floor((chars - tail.length) / unit.length)) + tail;

export const PATTERN_CASES: readonly PatternCase[] = [
  {
    id: 'dotted',
    schema: { pattern: '^(\\w+\\.)*\\w+$' },
    why: 'a starred group that ends in a separator: every "a." is tried both ways once',
    attack: (n) => fill('a.', n, '!'),
  },
  {
    id: 'email',
    schema: { pattern: '^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$' },
    why: 'the common e-mail expression: the domain part backtracks to each dot',
    attack: (n) => `a@${fill('.a', n - 3, '1')}`,
  },
  {
    id: 'unanchored',
    schema: { pattern: '[0-9]{3}-[0-9]{4}' },
    why: 'unanchored: tried from every position of a string of near misses',
    attack: (n) => fill('123-123 ', n),
  },
  {
    id: 'format.uri',
    schema: { format: 'uri' },
    why: "@cfworker/json-schema's URI expression over one long path segment",
    attack: (n) => `a:${fill('a', n - 3)}\n`,
  },
  {
    id: 'format.uri-reference',
    schema: { format: 'uri-reference' },
    why: 'its URI-reference expression on the string recheck\'s fuzzer flags ("/@2525…")',
    attack: (n) => `/@${fill('25', n - 3)}\n`,
  },
  {
    id: 'format.email',
    schema: { format: 'email' },
    why: 'its e-mail check on a long quoted local part',
    attack: (n) => `"${fill('\\ ', n - 1)}`,
  },
];
