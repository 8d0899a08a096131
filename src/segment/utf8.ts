// UTF-8 byte length of a JS string without keeping an encoding of it. Pure.
// TextEncoder.encodeInto (native) into a reused scratch buffer is ~40× faster than a JS loop
// over char codes for event-sized strings (bench/README.md, "Hot spots").

const encoder = new TextEncoder();
let scratch = new Uint8Array(64 * 1024);

/** Bytes the string takes as UTF-8 (a lone surrogate counts 3, as TextEncoder writes U+FFFD). */
export function utf8Length(text: string): number {
  // Every UTF-16 unit becomes at most 3 bytes.
  const worst = text.length * 3;
  if (worst > scratch.length) scratch = new Uint8Array(Math.max(worst, scratch.length * 2));
  return encoder.encodeInto(text, scratch).written;
}
