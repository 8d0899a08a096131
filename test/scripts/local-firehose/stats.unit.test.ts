// The endpoint's counters: late calls per stream beside the fields that were there before.

import { describe, expect, it } from 'vitest';
import { OUTCOMES, emptyStats, recordCall } from '../../../scripts/local-firehose/stats';

describe('emptyStats', () => {
  it('has every outcome at 0, the new ones included', () => {
    const stats = emptyStats();
    expect(Object.keys(stats.callsByOutcome)).toEqual([...OUTCOMES]);
    expect(stats.callsByOutcome).toMatchObject({ late: 0, expired_token: 0, too_large: 0 });
    expect(Object.keys(stats).sort()).toEqual(
      [
        'calls',
        'callsByOutcome',
        'recordsAccepted',
        'recordsFailed',
        'bytesWritten',
        'filesWritten',
        'streams',
      ].sort(),
    );
  });
});

describe('recordCall', () => {
  it('counts a late call as accepted overall and as late for its stream', () => {
    const stats = emptyStats();
    recordCall(stats, { outcome: 'ok', stream: 's', accepted: 2, failed: 0, bytesWritten: 10 });
    recordCall(stats, {
      outcome: 'late',
      stream: 's',
      accepted: 3,
      failed: 1,
      bytesWritten: 30,
      newFile: '/f',
    });
    expect(stats).toMatchObject({
      calls: 2,
      callsByOutcome: { ok: 1, late: 1 },
      recordsAccepted: 5,
      recordsFailed: 1,
      bytesWritten: 40,
      filesWritten: 1,
    });
    expect(stats.streams['s']).toEqual({
      calls: 2,
      recordsAccepted: 5,
      recordsFailed: 1,
      bytesWritten: 40,
      files: ['/f'],
      lateCalls: 1,
      lateRecords: 3,
      regions: {},
    });
  });

  it('counts refused calls under their own outcomes with nothing accepted', () => {
    const stats = emptyStats();
    recordCall(stats, {
      outcome: 'expired_token',
      stream: 's',
      accepted: 0,
      failed: 0,
      bytesWritten: 0,
    });
    recordCall(stats, {
      outcome: 'too_large',
      stream: 's',
      accepted: 0,
      failed: 0,
      bytesWritten: 0,
    });
    expect(stats.callsByOutcome).toMatchObject({ expired_token: 1, too_large: 1 });
    expect(stats.streams['s']).toMatchObject({ calls: 2, recordsAccepted: 0, lateCalls: 0 });
  });
});
