// JSON Pointers (RFC 6901) into an event, with a `*` segment matching any key or array item.
// Pure; fields.ts applies them.

/** A parsed pointer: each segment a key (or array index as text), or ANY for `*`. */
export const ANY = null;
export type Segment = string | typeof ANY;

/** RFC 6901 §4: `~1` is `/`, `~0` is `~`, in that order. */
function unescapeToken(token: string): string | undefined {
  if (/~[^01]|~$/.test(token)) return undefined;
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

/**
 * The segments of `pointer` ("/properties/email", "/context/traits/*"), or why it is not one. The
 * root pointer "" (the whole event) is refused: a rule names a field.
 */
export function parsePointer(
  pointer: string,
): { ok: true; segments: Segment[] } | { ok: false; why: string } {
  if (pointer === '') return { ok: false, why: 'the whole event cannot be a field' };
  if (!pointer.startsWith('/'))
    return {
      ok: false,
      why: 'a JSON Pointer starts with "/" (RFC 6901), e.g. "/properties/email"',
    };
  const segments: Segment[] = [];
  for (const token of pointer.slice(1).split('/')) {
    if (token === '*') {
      segments.push(ANY);
      continue;
    }
    const key = unescapeToken(token);
    if (key === undefined) return { ok: false, why: `"~" must be followed by 0 or 1 (RFC 6901)` };
    segments.push(key);
  }
  return { ok: true, segments };
}
