// IP address anonymisation for ANONYMIZE_IP. Pure.
// Zeroes the last octet of IPv4 and the last 80 bits of IPv6 (keeps the /24 and the /48),
// the truncation Google Analytics documents for its IP anonymisation.

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEXTET = /^[0-9a-fA-F]{1,4}$/;

function ipv4Octets(text: string): number[] | undefined {
  const m = IPV4.exec(text);
  if (m === null) return undefined;
  const octets = [m[1], m[2], m[3], m[4]].map(Number);
  return octets.every((o) => o <= 255) ? octets : undefined;
}

function parseHextets(part: string): number[] | undefined {
  if (part === '') return [];
  const groups = part.split(':');
  if (!groups.every((g) => HEXTET.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16));
}

/** The eight 16-bit groups of an IPv6 address, or undefined when it is not one (RFC 4291 §2.2). */
export function ipv6Hextets(ip: string): number[] | undefined {
  let text = ip;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    // An embedded IPv4 tail (::ffff:192.0.2.1) is two hextets written in dotted form.
    const o = ipv4Octets(tail);
    if (o === undefined) return undefined;
    const hi = ((o[0] ?? 0) << 8) | (o[1] ?? 0);
    const lo = ((o[2] ?? 0) << 8) | (o[3] ?? 0);
    text = `${text.slice(0, lastColon + 1)}${hi.toString(16)}:${lo.toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseHextets(halves[0] ?? '');
  const rest = parseHextets(halves[1] ?? '');
  if (head === undefined || rest === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - rest.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...rest];
}

/** The anonymised form of an IPv4 or IPv6 address, or undefined when it is not an address. */
export function anonymizeIp(ip: string): string | undefined {
  if (ip.includes(':')) {
    const h = ipv6Hextets(ip);
    if (h === undefined) return undefined;
    // RFC 5952 form: the zero run at the end (at least the 5 masked hextets) becomes "::".
    const kept = h.slice(0, 3);
    while (kept.length > 0 && kept[kept.length - 1] === 0) kept.pop();
    return `${kept.map((x) => x.toString(16)).join(':')}::`;
  }
  const o = ipv4Octets(ip);
  return o === undefined ? undefined : `${o[0]}.${o[1]}.${o[2]}.0`;
}
