// The lines `npm start` prints once the stack answers.
import { describe, expect, it } from 'vitest';
import { banner, type BannerInput } from '../../../scripts/dev/banner';

const BASE: BannerInput = {
  workerUrl: 'http://127.0.0.1:8787',
  firehoseUrl: 'http://127.0.0.1:4573',
  stream: 'ndc-segment',
  dataDir: '.data/firehose',
  writeKey: 'k1',
  adminToken: 'tok',
  adminTokenGenerated: true,
  metricsToken: undefined,
  firehoseEndpoint: undefined,
};

describe('banner', () => {
  it('shows every URL, a working key and the admin token with how to use them', () => {
    expect(banner(BASE)).toBe(
      [
        'ndc-segment is running. Ctrl-C stops it.',
        '  collector       http://127.0.0.1:8787  write key k1',
        '  health          http://127.0.0.1:8787/health',
        '  metrics         http://127.0.0.1:8787/metrics',
        '  admin token     tok  (generated; set ADMIN_TOKEN to choose)',
        '  debugger        http://127.0.0.1:8787/debugger  (paste the admin token)',
        '  local Firehose  http://127.0.0.1:4573  stream ndc-segment',
        `  faults          POST http://127.0.0.1:4573/_local/faults  e.g. -d '{"throttle":0.5}'`,
        '  delivered files .data/firehose/ndc-segment/YYYY/MM/DD/HH/*.ndjson',
        '',
        'Send:   curl -u k1: -d @track.json http://127.0.0.1:8787/v1/track',
        "Admin:  curl -H 'Authorization: Bearer tok' http://127.0.0.1:8787/admin/dead-letters",
        '',
      ].join('\n'),
    );
  });

  it('says where a given token, a metrics token and a list of streams come in', () => {
    const text = banner({
      ...BASE,
      adminToken: 'given',
      adminTokenGenerated: false,
      metricsToken: 'm',
      stream: 'a, b',
    });
    expect(text).toContain('admin token     given  (ADMIN_TOKEN)');
    expect(text).toContain('/metrics  (Bearer METRICS_TOKEN)');
    expect(text).toContain('.data/firehose/{a,b}/YYYY');
  });

  it("shows where forwarding goes, and the local endpoint's files", () => {
    const text = banner({
      ...BASE,
      forwardTo: { url: 'http://127.0.0.1:8788/v1/batch', dataDir: '.data/segment' },
    });
    expect(text).toContain('forwarding to   http://127.0.0.1:8788/v1/batch');
    expect(text).toContain('forwarded files .data/segment/<write key>/YYYY/MM/DD/HH/*.ndjson');
    expect(banner(BASE)).not.toContain('forwarding');
  });

  it('says when no key works, when the admin API is off and when delivery is elsewhere', () => {
    const text = banner({
      ...BASE,
      writeKey: undefined,
      adminToken: undefined,
      firehoseEndpoint: 'https://firehose.eu-west-1.amazonaws.com/',
    });
    expect(text).toContain('WRITE_KEYS has no key: every call is 401');
    expect(text).toContain('admin API       off (ADMIN_TOKEN is empty)');
    expect(text).toContain('Firehose        https://firehose.eu-west-1.amazonaws.com/');
    expect(text).not.toMatch(/Send:|Admin:|_local\/faults|debugger/);
  });
});
