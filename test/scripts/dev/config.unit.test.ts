// How `npm start` resolves its settings: --var over the environment over .dev.vars over the
// defaults, the delivery wiring kept local unless FIREHOSE_ENDPOINT is given, and the errors.
import { describe, expect, it } from 'vitest';
import { parseVarArgs, resolveDevConfig, type DevInput } from '../../../scripts/dev/config';
import { SEED_WRITE_KEYS } from '../../../scripts/stack';

function resolve(input: Partial<DevInput>) {
  const result = resolveDevConfig({
    env: {},
    argv: [],
    devVars: undefined,
    newToken: () => 'generated-token',
    ...input,
  });
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

describe('parseVarArgs', () => {
  it.each([
    [['--var', 'A:1'], { A: '1' }],
    [['--var=A:1', '--var', 'B:x:y'], { A: '1', B: 'x:y' }],
    [['--var', 'A:1', '--var', 'A:2'], { A: '2' }],
    [['--var', 'EMPTY:'], { EMPTY: '' }],
    [[], {}],
  ])('reads %j', (argv, vars) => {
    expect(parseVarArgs(argv)).toEqual({ ok: true, value: vars });
  });

  it.each([
    [['--port', '1'], /unknown argument --port/],
    [['--var'], /--var takes NAME:value, got nothing/],
    [['--var', 'NOCOLON'], /got NOCOLON/],
    [['--var', '1BAD:x'], /got 1BAD:x/],
    [['--var', ':x'], /got :x/],
  ])('refuses %j', (argv, message) => {
    const result = parseVarArgs(argv);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(message);
  });
});

describe('resolveDevConfig', () => {
  it('runs with the seed key, the default ports and a generated admin token', () => {
    expect(resolve({})).toEqual({
      port: 8787,
      firehosePort: 4573,
      segmentPort: 8788,
      forwardWriteKeys: undefined,
      forwardEndpoint: undefined,
      dataDir: '.data',
      stream: 'ndc-segment',
      writeKeys: SEED_WRITE_KEYS,
      vars: { ADMIN_TOKEN: 'generated-token' },
      writeKey: '8GT90rhOugcEGAqdcBWP8muss7iSwwHy',
      adminToken: 'generated-token',
      adminTokenGenerated: true,
      metricsToken: undefined,
      firehoseEndpoint: undefined,
      ignored: [],
    });
  });

  it('forwards to a local Segment endpoint given FORWARD_WRITE_KEYS alone, else to FORWARD_ENDPOINT', () => {
    const local = resolve({ env: { FORWARD_WRITE_KEYS: 'ndc-demo=dest', SEGMENT_PORT: '9100' } });
    expect(local).toMatchObject({ forwardWriteKeys: 'ndc-demo=dest', segmentPort: 9100 });
    expect(local.forwardEndpoint).toBeUndefined();
    const remote = resolve({
      env: { FORWARD_WRITE_KEYS: 'ndc-demo=dest' },
      argv: ['--var', 'FORWARD_ENDPOINT:https://api.segment.io/v1/batch'],
    });
    expect(remote.forwardWriteKeys).toBeUndefined();
    expect(remote.forwardEndpoint).toBe('https://api.segment.io/v1/batch');
    expect(remote.vars).toMatchObject({
      FORWARD_WRITE_KEYS: 'ndc-demo=dest',
      FORWARD_ENDPOINT: 'https://api.segment.io/v1/batch',
    });
  });

  it('takes each setting from --var, else the environment, else .dev.vars', () => {
    const config = resolve({
      devVars: {
        METRICS_TOKEN: 'file',
        ALLOWED_ORIGINS: 'https://file.test',
        ANONYMIZE_IP: 'true',
      },
      env: { METRICS_TOKEN: 'env', ALLOWED_ORIGINS: 'https://env.test' },
      argv: ['--var', 'METRICS_TOKEN:arg'],
    });
    expect(config.vars).toEqual({
      METRICS_TOKEN: 'arg',
      ALLOWED_ORIGINS: 'https://env.test',
      ANONYMIZE_IP: 'true',
      ADMIN_TOKEN: 'generated-token',
    });
    expect(config.metricsToken).toBe('arg');
  });

  it('shows the first key of WRITE_KEYS, whichever source set it', () => {
    expect(resolve({ env: { WRITE_KEYS: ' k1=web , k2' } }).writeKey).toBe('k1');
    expect(resolve({ devVars: { WRITE_KEYS: 'file-key' } }).writeKeys).toBe('file-key');
    const config = resolve({ env: { WRITE_KEYS: 'env-key' }, argv: ['--var', 'WRITE_KEYS:k3'] });
    expect(config.writeKeys).toBe('k3');
    expect(config.writeKey).toBe('k3');
    expect(config.vars).not.toHaveProperty('WRITE_KEYS');
    expect(resolve({ argv: ['--var', 'WRITE_KEYS:'] }).writeKey).toBeUndefined();
  });

  it('uses a given ADMIN_TOKEN instead of generating one; an empty one turns the API off', () => {
    const given = resolve({ env: { ADMIN_TOKEN: 'mine' } });
    expect(given.adminToken).toBe('mine');
    expect(given.adminTokenGenerated).toBe(false);
    expect(resolve({ devVars: { ADMIN_TOKEN: 'file' } }).adminToken).toBe('file');
    const off = resolve({ argv: ['--var', 'ADMIN_TOKEN:'] });
    expect(off.adminToken).toBeUndefined();
    expect(off.vars['ADMIN_TOKEN']).toBe('');
  });

  it('treats an empty environment variable as unset', () => {
    const config = resolve({ env: { WRITE_KEYS: '', ADMIN_TOKEN: '' } });
    expect(config.writeKeys).toBe(SEED_WRITE_KEYS);
    expect(config.adminTokenGenerated).toBe(true);
  });

  it('reads only the Worker settings from the environment, never AWS_* or unknown names', () => {
    const config = resolve({
      env: {
        AWS_ACCESS_KEY_ID: 'AKIA-real',
        AWS_SECRET_ACCESS_KEY: 'real',
        AWS_REGION: 'eu-west-1',
        FIREHOSE_ENDPOINT: 'https://firehose.eu-west-1.amazonaws.com/',
        HOME: '/root',
        FIREHOSE_STREAM: 'from-env',
        DELIVERY_RETRY_MAX_SECONDS: '5',
      },
    });
    expect(config.vars).toEqual({
      DELIVERY_RETRY_MAX_SECONDS: '5',
      ADMIN_TOKEN: 'generated-token',
    });
    expect(config.stream).toBe('from-env');
    expect(config.firehoseEndpoint).toBeUndefined();
  });

  it('passes any name from --var and .dev.vars', () => {
    const config = resolve({ devVars: { CUSTOM: 'a' }, argv: ['--var', 'OTHER:b'] });
    expect(config.vars).toMatchObject({ CUSTOM: 'a', OTHER: 'b' });
  });

  it('keeps delivery local, and says so, when AWS_* come without FIREHOSE_ENDPOINT', () => {
    const config = resolve({
      devVars: { AWS_ACCESS_KEY_ID: 'x', AWS_SESSION_TOKEN: 't' },
      argv: ['--var', 'AWS_REGION:eu-west-1'],
    });
    expect(config.vars).toEqual({ ADMIN_TOKEN: 'generated-token' });
    expect(config.ignored).toEqual([
      expect.stringMatching(/^AWS_REGION: .*FIREHOSE_ENDPOINT/),
      expect.stringMatching(/^AWS_ACCESS_KEY_ID: /),
      expect.stringMatching(/^AWS_SESSION_TOKEN: /),
    ]);
  });

  it('delivers elsewhere, with the given credentials, when FIREHOSE_ENDPOINT is given', () => {
    const config = resolve({
      devVars: { AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret' },
      argv: ['--var', 'FIREHOSE_ENDPOINT:https://firehose.eu-west-1.amazonaws.com/'],
    });
    expect(config.firehoseEndpoint).toBe('https://firehose.eu-west-1.amazonaws.com/');
    expect(config.vars).toMatchObject({
      FIREHOSE_ENDPOINT: 'https://firehose.eu-west-1.amazonaws.com/',
      AWS_ACCESS_KEY_ID: 'id',
      AWS_SECRET_ACCESS_KEY: 'secret',
    });
    expect(config.ignored).toEqual([]);
  });

  it('takes PORT, FIREHOSE_PORT and DATA_DIR from the environment', () => {
    const config = resolve({ env: { PORT: '9000', FIREHOSE_PORT: '0', DATA_DIR: '/tmp/x' } });
    expect([config.port, config.firehosePort, config.dataDir]).toEqual([9000, 0, '/tmp/x']);
  });

  it.each([
    [{ env: { PORT: 'abc' } }, 'PORT must be a port number from 0 to 65535, got abc'],
    [{ env: { FIREHOSE_PORT: '70000' } }, 'FIREHOSE_PORT must be a port number'],
    [{ argv: ['--bogus'] }, 'unknown argument --bogus'],
  ])('refuses %j', (input, message) => {
    const result = resolveDevConfig({
      env: {},
      argv: [],
      devVars: undefined,
      newToken: () => 't',
      ...input,
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(message);
  });
});
