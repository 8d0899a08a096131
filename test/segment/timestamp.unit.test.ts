import { describe, expect, it } from 'vitest';
import { formatIsoTimestamp, parseIsoTimestamp } from '../../src/segment/timestamp';

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
