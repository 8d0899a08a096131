// The docs' tested shell blocks: a ```sh block right after `<!-- docs-test: name -->` is run as
// a user pastes it, and its full-line comments (`# …`) are the output it must print, in order,
// `…` standing for any text. Blocks of one name run in turn in one shell, as a reader pastes a
// guide's blocks into one terminal. Pure: Markdown text in, blocks out.

export interface DocBlock {
  name: string;
  /** The file it came from, for messages. */
  file: string;
  /** The block's text, as pasted. */
  script: string;
  /** What it must print, one entry per line. */
  expected: string[];
}

const MARKER = /<!-- docs-test: ([a-z0-9-]+) -->\s*\n\s*```(?:sh|bash)\n([\s\S]*?)\n```/g;
const HEREDOC_START = /<<-?\s*'?(\w+)'?\s*$/;

/** The comment lines of a block that are its output: full-line `# …` outside a here-document. */
export function expectedOutput(script: string): string[] {
  const out: string[] = [];
  let heredocEnd: string | undefined;
  for (const line of script.split('\n')) {
    if (heredocEnd !== undefined) {
      if (line === heredocEnd) heredocEnd = undefined;
      continue;
    }
    const start = HEREDOC_START.exec(line);
    if (start !== null) heredocEnd = start[1];
    else if (line.startsWith('# ')) out.push(line.slice(2));
  }
  return out;
}

export function docBlocks(file: string, markdown: string): DocBlock[] {
  return [...markdown.matchAll(MARKER)].map((m) => ({
    name: m[1] ?? '',
    file,
    script: m[2] ?? '',
    expected: expectedOutput(m[2] ?? ''),
  }));
}

/** Whether a printed line is what the docs show: `…` matches any text, the rest exactly. */
export function lineMatches(expected: string, actual: string): boolean {
  const pattern = expected
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`, 's').test(actual);
}

/** The first line where the output differs from the docs, or undefined when it matches. */
export function outputMismatch(expected: string[], actual: string[]): string | undefined {
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    const want = expected[i];
    const got = actual[i];
    if (want === undefined) return `line ${i + 1}: printed ${got ?? ''}, the docs show no more`;
    if (got === undefined) return `line ${i + 1}: the docs show ${want}, nothing more was printed`;
    if (!lineMatches(want, got))
      return `line ${i + 1}: the docs show\n  ${want}\nprinted\n  ${got}`;
  }
  return undefined;
}
