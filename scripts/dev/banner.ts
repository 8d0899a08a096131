// What `npm start` prints once the stack answers: every URL, a write key and an admin token
// that work, and how to use them. Pure: everything shown is passed in.

export interface BannerInput {
  workerUrl: string;
  firehoseUrl: string;
  stream: string;
  /** Where the local endpoint writes, as the user should type it (e.g. .data/firehose). */
  dataDir: string;
  writeKey: string | undefined;
  adminToken: string | undefined;
  adminTokenGenerated: boolean;
  metricsToken: string | undefined;
  /** Set when the Worker delivers to another Firehose endpoint than the local one. */
  firehoseEndpoint: string | undefined;
  /** Where forwarding posts; `dataDir` when it is the local Segment endpoint. */
  forwardTo?: { url: string; dataDir?: string };
}

/** `.data/firehose/<stream>/…`, or `{a,b}` for a list of streams. */
function streamDir(stream: string): string {
  const streams = stream
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return streams.length === 1 ? (streams[0] ?? stream) : `{${streams.join(',')}}`;
}

export function banner(b: BannerInput): string {
  const row = (label: string, value: string): string => `  ${label.padEnd(16)}${value}`;
  const lines = ['ndc-segment is running. Ctrl-C stops it.'];
  lines.push(
    row(
      'collector',
      b.writeKey === undefined
        ? `${b.workerUrl}  (WRITE_KEYS has no key: every call is 401)`
        : `${b.workerUrl}  write key ${b.writeKey}`,
    ),
  );
  lines.push(row('health', `${b.workerUrl}/health`));
  lines.push(
    row(
      'metrics',
      `${b.workerUrl}/metrics${b.metricsToken === undefined ? '' : '  (Bearer METRICS_TOKEN)'}`,
    ),
  );
  if (b.adminToken === undefined) {
    lines.push(row('admin API', 'off (ADMIN_TOKEN is empty)'));
  } else {
    const origin = b.adminTokenGenerated ? 'generated; set ADMIN_TOKEN to choose' : 'ADMIN_TOKEN';
    lines.push(row('admin token', `${b.adminToken}  (${origin})`));
    lines.push(row('debugger', `${b.workerUrl}/debugger  (paste the admin token)`));
  }
  if (b.firehoseEndpoint === undefined) {
    lines.push(row('local Firehose', `${b.firehoseUrl}  stream ${b.stream}`));
    lines.push(row('faults', `POST ${b.firehoseUrl}/_local/faults  e.g. -d '{"throttle":0.5}'`));
    lines.push(
      row('delivered files', `${b.dataDir}/${streamDir(b.stream)}/YYYY/MM/DD/HH/*.ndjson`),
    );
  } else {
    lines.push(row('Firehose', `${b.firehoseEndpoint}  stream ${b.stream}  (FIREHOSE_ENDPOINT)`));
  }
  if (b.forwardTo !== undefined) {
    lines.push(row('forwarding to', b.forwardTo.url));
    if (b.forwardTo.dataDir !== undefined) {
      lines.push(
        row('forwarded files', `${b.forwardTo.dataDir}/<write key>/YYYY/MM/DD/HH/*.ndjson`),
      );
    }
  }
  lines.push('');
  if (b.writeKey !== undefined) {
    lines.push(`Send:   curl -u ${b.writeKey}: -d @track.json ${b.workerUrl}/v1/track`);
  }
  if (b.adminToken !== undefined) {
    lines.push(
      `Admin:  curl -H 'Authorization: Bearer ${b.adminToken}' ${b.workerUrl}/admin/dead-letters`,
    );
  }
  return `${lines.join('\n')}\n`;
}
