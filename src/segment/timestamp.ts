// ISO-8601 timestamps as the Segment spec uses them (`timestamp`, `sentAt`). Pure.
// Parsed by hand rather than with Date.parse, whose accepted forms are implementation-defined
// (ECMA-262 §21.4.3.2 only guarantees its own simplified format).

// YYYY-MM-DD, optionally followed by T (or a space, RFC 3339 §5.6) and HH:MM[:SS[.fraction]],
// optionally followed by Z or an offset ±HH[:MM] / ±HHMM.
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DIGIT_0 = 48;

/** The value of `length` decimal digits at `at`, or -1 if any is not a digit. */
function digits(value: string, at: number, length: number): number {
  let n = 0;
  for (let i = at; i < at + length; i++) {
    const d = value.charCodeAt(i) - DIGIT_0;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * The form every Segment SDK writes (`Date#toISOString`: `YYYY-MM-DDTHH:MM:SS.sssZ`) read
 * without the regular expression, which costs more than the rest of validating a call; any
 * other form (or an out-of-range field) goes the general way.
 */
function parseCanonical(value: string): number | undefined {
  if (
    value.length !== 24 ||
    value.charCodeAt(4) !== 45 || // -
    value.charCodeAt(7) !== 45 ||
    value.charCodeAt(10) !== 84 || // T
    value.charCodeAt(13) !== 58 || // :
    value.charCodeAt(16) !== 58 ||
    value.charCodeAt(19) !== 46 || // .
    value.charCodeAt(23) !== 90 // Z
  ) {
    return undefined;
  }
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  const hour = digits(value, 11, 2);
  const minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  const millis = digits(value, 20, 3);
  // Years before 100 go the general way, which keeps Date.UTC from mapping them to 19xx.
  if (year < 100 || month < 1 || month > 12 || day < 1) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
    return undefined;
  }
  if (millis < 0) return undefined;
  const maxDay = month === 2 && !isLeapYear(year) ? 28 : (DAYS_IN_MONTH[month - 1] ?? 31);
  if (day > maxDay) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, millis);
}

/** Milliseconds since the epoch for an ISO-8601 string, or undefined if it is not one. */
export function parseIsoTimestamp(value: string): number | undefined {
  const canonical = parseCanonical(value);
  if (canonical !== undefined) return canonical;
  const m = ISO_8601.exec(value);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  if (month < 1 || month > 12) return undefined;
  const maxDay = month === 2 && !isLeapYear(year) ? 28 : (DAYS_IN_MONTH[month - 1] ?? 31);
  if (day < 1 || day > maxDay) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const offsetHours = Number(m[10]);
    const offsetMins = m[11] === undefined ? 0 : Number(m[11]);
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, millis));
  date.setUTCFullYear(year);
  return date.getTime() - offsetMinutes * 60_000;
}

/** The canonical form we write: ISO-8601 UTC with milliseconds, as Segment writes receivedAt. */
export function formatIsoTimestamp(epochMillis: number): string {
  return new Date(epochMillis).toISOString();
}
