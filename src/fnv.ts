// A stable 64-bit hash for names that must be shortened or made safe (R2 keys, Analytics Engine
// blobs): FNV-1a (Fowler, Noll, Vo) over the UTF-16 code units in two lanes with different
// seeds, the second lane also mixing its high bits down. Not cryptographic; the same on every
// isolate and deploy. Pure.

/** 16 lowercase hex digits of the two lanes. */
export function fnv64Hex(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
