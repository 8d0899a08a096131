import { describe, expect, it } from 'vitest';
import { STREAM_STRAIN_SECONDS, StreamSpread } from '../../src/firehose/spread';

describe('StreamSpread', () => {
  it('deals records over every stream from a turn that moves on batch by batch', () => {
    const spread = new StreamSpread();
    expect(spread.deal(['a', 'b', 'c'], 4)).toEqual(['a', 'b', 'c', 'a']);
    // The next batch's single record goes to the stream after the last one dealt.
    expect(spread.deal(['a', 'b', 'c'], 1)).toEqual(['b']);
    expect(spread.deal(['a', 'b', 'c'], 1)).toEqual(['c']);
    expect(spread.deal(['only'], 3)).toEqual(['only', 'only', 'only']);
    expect(spread.deal([], 2)).toEqual([]);
  });

  it('passes a strained stream over for STREAM_STRAIN_SECONDS while another is not strained', () => {
    const spread = new StreamSpread();
    const streams = ['a', 'b', 'c'];
    spread.strained('eu-west-1', 'b', 1_000);
    expect(spread.usable('eu-west-1', streams, 1_000)).toEqual(['a', 'c']);
    // The same name in another region is another stream.
    expect(spread.usable('us-east-1', streams, 1_000)).toEqual(streams);
    expect(spread.usable('eu-west-1', streams, 1_000 + STREAM_STRAIN_SECONDS * 1000)).toEqual(
      streams,
    );
  });

  it('uses every stream when all of them are strained', () => {
    const spread = new StreamSpread();
    spread.strained('r', 'a', 0);
    spread.strained('r', 'b', 0);
    expect(spread.usable('r', ['a', 'b'], 1)).toEqual(['a', 'b']);
  });
});
