import { describe, expect, it } from 'vitest';
import { formatIsoTimestamp, parseIsoTimestamp } from '../../src/segment/timestamp';

describe("parseIsoTimestamp on the SDKs' form (toISOString)", () => {
  it('reads back what Date#toISOString wrote, across years, months and leap days', () => {
    const times = Array.from(
      { length: 5000 },
      (_v, i) => Date.UTC(1990 + (i % 60), 0, 1) + i * 7_919_993_617,
    );
    times.push(Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(100, 0, 1), Date.UTC(9999, 11, 31));
    for (const t of times) expect(parseIsoTimestamp(new Date(t).toISOString())).toBe(t);
  });

  it.each([
    '2023-02-29T00:00:00.000Z',
    '2017-04-31T00:00:00.000Z',
    '2017-08-09T24:00:00.000Z',
    '2017-08-09T-1:24:25.615Z',
    '2017-08-09T13:60:25.615Z',
    '2017-08-09T13:24:60.615Z',
    '2017-08-09T13:24:25.6a5Z',
    '2017-00-09T13:24:25.615Z',
    '2017-08-00T13:24:25.615Z',
    '20x7-08-09T13:24:25.615Z',
  ])('rejects %j', (input) => {
    expect(parseIsoTimestamp(input)).toBeUndefined();
  });

  it('reads a year before 100 as that year, not 19xx', () => {
    expect(parseIsoTimestamp('0099-01-01T00:00:00.000Z')).toBe(
      new Date('0099-01-01T00:00:00.000Z').getTime(),
    );
  });
});

describe('parseIsoTimestamp', () => {
  const accepted: Array<[string, string]> = [
    ['2017-08-09T13:24:25.615Z', '2017-08-09T13:24:25.615Z'],
    ['2017-08-09T13:24:25Z', '2017-08-09T13:24:25.000Z'],
    ['2017-08-09T13:24Z', '2017-08-09T13:24:00.000Z'],
    ['2017-08-09', '2017-08-09T00:00:00.000Z'],
    ['2017-08-09T23:24:25.615+10:00', '2017-08-09T13:24:25.615Z'],
    ['2017-08-09T03:24:25-1000', '2017-08-09T13:24:25.000Z'],
    ['2017-08-09T13:24:25+05', '2017-08-09T08:24:25.000Z'],
    ['2017-08-09 13:24:25.123456789Z', '2017-08-09T13:24:25.123Z'],
    ['2017-08-09T13:24:25', '2017-08-09T13:24:25.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
  ];
  it.each(accepted)('reads %s as %s', (input, expected) => {
    const ms = parseIsoTimestamp(input);
    expect(ms).toBeDefined();
    expect(formatIsoTimestamp(ms ?? NaN)).toBe(expected);
  });

  const rejected = [
    '',
    'yesterday',
    '1700000000',
    '2017-8-9',
    '2017-13-01T00:00:00Z',
    '2017-00-01',
    '2023-02-29',
    '2017-04-31',
    '2017-08-09T24:00:00Z',
    '2017-08-09T13:60:00Z',
    '2017-08-09T13:24:61Z',
    '2017-08-09T13:24:25+25:00',
    '2017-08-09T13:24:25.Z',
    ' 2017-08-09',
    '2017-08-09T13:24:25Zjunk',
  ];
  it.each(rejected)('rejects %j', (input) => {
    expect(parseIsoTimestamp(input)).toBeUndefined();
  });
});
