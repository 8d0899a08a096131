// The status page served at GET /status: the last hour of each source, minute by minute, as
// charts (events received, delivered, rejected, dead-lettered; delivery lag), without
// Prometheus. One self-contained HTML document, its CSS and script inline and allowed by a
// Content-Security-Policy naming their hashes, like the debugger's (src/routes/page-policy.ts).
// Pure data and string assembly.
//
// What the script does: signs in as the debugger does (src/debugger/session.ts: the token in
// sessionStorage, one sign-in for both pages in a tab), reads GET /admin/status every
// STATUS_REFRESH_SECONDS and draws each series as an inline SVG bar chart.

import { SESSION_SCRIPT } from '../debugger/session';

// Ours: the shards see new counts every METRICS_FLUSH_SECONDS (10 s by default); reading more
// often shows nothing new, and each read of the shards is 16 Durable Object requests.
export const STATUS_REFRESH_SECONDS = 10;

export const STATUS_STYLE = String.raw`
:root { color-scheme: light dark; --muted: #5f6368; --line: #dadce0; --bg-alt: #f6f8fa;
  --received: #1a73e8; --delivered: #137333; --rejected: #b3261e; --dead: #a142f4; --lag: #e37400; }
@media (prefers-color-scheme: dark) { :root { --muted: #9aa0a6; --line: #3c4043; --bg-alt: #202124;
  --received: #8ab4f8; --delivered: #81c995; --rejected: #f28b82; --dead: #d7aefb; --lag: #fdd663; } }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; padding: 10px 16px;
  border-bottom: 1px solid var(--line); }
h1 { font-size: 16px; margin: 0 12px 0 0; }
h1 small { font-weight: normal; color: var(--muted); }
form { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
label, #updated, .muted { color: var(--muted); }
input, button { font: inherit; padding: 3px 8px; }
button { cursor: pointer; }
#notice { margin: 0; }
#notice[data-kind="error"] { color: var(--rejected); font-weight: 600; }
#updated { margin-left: auto; font-size: 12px; }
main, #intro, #disabled { padding: 8px 16px; }
#intro, #disabled { max-width: 760px; }
#disabled pre, #disabled code { background: var(--bg-alt); }
#disabled pre { padding: 8px; }
section.source { border-bottom: 1px solid var(--line); padding: 8px 0 12px; }
section.source h2 { font-size: 15px; margin: 4px 0 8px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 12px; }
figure { margin: 0; }
figcaption { display: flex; justify-content: space-between; gap: 8px; font-size: 12px; }
figcaption .total { color: var(--muted); font-variant-numeric: tabular-nums; }
svg { display: block; width: 100%; height: 64px; background: var(--bg-alt); border-radius: 4px; }
svg .bar { fill: var(--received); }
figure[data-series="delivered"] .bar { fill: var(--delivered); }
figure[data-series="rejected"] .bar { fill: var(--rejected); }
figure[data-series="deadLettered"] .bar { fill: var(--dead); }
figure[data-series="lagSeconds"] .bar { fill: var(--lag); }
svg .axis { stroke: var(--line); stroke-width: 1; }
.empty { color: var(--muted); }
`;

export const STATUS_SCRIPT =
  SESSION_SCRIPT +
  String.raw`
'use strict';
(function () {
  var REFRESH_MS = ${STATUS_REFRESH_SECONDS * 1000};
  var SERIES = [
    { key: 'received', title: 'Received' },
    { key: 'delivered', title: 'Delivered' },
    { key: 'rejected', title: 'Rejected' },
    { key: 'deadLettered', title: 'Dead-lettered' },
    { key: 'lagSeconds', title: 'Delivery lag (s)', lag: true }
  ];
  var SVG = 'http://www.w3.org/2000/svg';
  var W = 240, H = 64;
  var $ = function (id) { return document.getElementById(id); };
  if (document.body.dataset.enabled !== 'true') {
    $('login').hidden = true;
    $('intro').hidden = true;
    $('disabled').hidden = false;
    return;
  }
  var state = { token: ndcSession.get(), timer: null, generation: 0 };

  function notice(text, kind) {
    $('notice').textContent = text;
    $('notice').dataset.kind = kind || 'info';
  }

  function signOut(message, kind) {
    state.generation += 1;
    if (state.timer !== null) { clearTimeout(state.timer); state.timer = null; }
    ndcSession.forget();
    state.token = '';
    $('app').hidden = true;
    $('intro').hidden = false;
    $('login').hidden = false;
    $('forget').hidden = true;
    $('updated').textContent = '';
    notice(message, kind);
  }

  function hhmm(iso) {
    var d = new Date(iso);
    return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
  }

  function format(n) {
    if (n === null || n === undefined) return '–';
    return n >= 100 || n === Math.round(n) ? String(Math.round(n)) : n.toFixed(2);
  }

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (parent) parent.appendChild(node);
    return node;
  }

  // One bar per minute, scaled to the hour's highest; a bar's tooltip gives its minute and value.
  function chart(minutes, values) {
    var svg = el('svg', { viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none', role: 'img' });
    var top = 0;
    values.forEach(function (v) { if (v !== null && v > top) top = v; });
    var step = W / values.length;
    values.forEach(function (v, i) {
      if (v === null || v <= 0 || top === 0) return;
      var h = Math.max(1, (v / top) * (H - 2));
      var bar = el('rect', { class: 'bar', x: (i * step + 0.5).toFixed(2), y: (H - h).toFixed(2),
        width: Math.max(0.5, step - 1).toFixed(2), height: h.toFixed(2) }, svg);
      el('title', {}, bar).textContent = hhmm(minutes[i]) + ': ' + format(v);
    });
    el('line', { class: 'axis', x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5 }, svg);
    return svg;
  }

  function figure(source, series, minutes, values) {
    var fig = document.createElement('figure');
    fig.dataset.testid = 'status-chart';
    fig.dataset.source = source;
    fig.dataset.series = series.key;
    var caption = document.createElement('figcaption');
    var name = document.createElement('span');
    name.textContent = series.title;
    var total = document.createElement('span');
    total.className = 'total';
    var sum = 0, max = null;
    values.forEach(function (v) { if (v !== null) { sum += v; max = max === null ? v : Math.max(max, v); } });
    total.textContent = series.lag ? 'max ' + format(max) : format(sum) + ' in the hour';
    total.dataset.testid = 'status-total';
    caption.appendChild(name);
    caption.appendChild(total);
    fig.appendChild(caption);
    var svg = chart(minutes, values);
    el('title', {}, svg).textContent = source + ': ' + series.title + ', last hour by minute';
    fig.appendChild(svg);
    return fig;
  }

  function render(body) {
    var app = $('sources');
    var fragment = document.createDocumentFragment();
    var names = Object.keys(body.sources);
    names.forEach(function (source) {
      var section = document.createElement('section');
      section.className = 'source';
      section.dataset.testid = 'status-source';
      section.dataset.source = source;
      var h2 = document.createElement('h2');
      h2.textContent = source;
      section.appendChild(h2);
      var charts = document.createElement('div');
      charts.className = 'charts';
      SERIES.forEach(function (s) {
        charts.appendChild(figure(source, s, body.minutes, body.sources[source][s.key]));
      });
      section.appendChild(charts);
      fragment.appendChild(section);
    });
    app.textContent = '';
    app.appendChild(fragment);
    $('empty').hidden = names.length > 0;
    var last = body.minutes[body.minutes.length - 1];
    $('updated').textContent = 'Updated ' + new Date().toLocaleTimeString() +
      ' · ' + hhmm(body.minutes[0]) + '–' + hhmm(last) + ', per minute';
  }

  function load(generation) {
    ndcSession.api('GET', '/admin/status', state.token).then(function (body) {
      if (generation !== state.generation) return;
      ndcSession.set(state.token);
      $('login').hidden = true;
      $('intro').hidden = true;
      $('forget').hidden = false;
      $('app').hidden = false;
      notice('');
      render(body);
      state.timer = setTimeout(function () { load(generation); }, REFRESH_MS);
    }, function (e) {
      if (generation !== state.generation) return;
      if (e.status === 401) {
        signOut('Wrong token: the collector answered 401. Enter ADMIN_TOKEN or DEBUGGER_TOKEN again.', 'error');
        return;
      }
      notice(e.message + ' (retrying)', 'error');
      state.timer = setTimeout(function () { load(generation); }, REFRESH_MS);
    });
  }

  function start() {
    state.generation += 1;
    notice('Loading…');
    load(state.generation);
  }

  $('login').addEventListener('submit', function (ev) {
    ev.preventDefault();
    state.token = $('token').value.trim();
    $('token').value = '';
    if (state.token) start();
  });
  $('forget').addEventListener('click', function () { signOut('Token forgotten.'); });
  if (state.token) start();
})();
`;

const DISABLED = `
<section id="disabled" hidden>
  <h2>The status page is off: neither ADMIN_TOKEN nor DEBUGGER_TOKEN is set</h2>
  <p>It shows each source's traffic, so it opens only with a token. Set the
  <code>ADMIN_TOKEN</code> secret (or the read-only <code>DEBUGGER_TOKEN</code>) and reload this
  page.</p>
  <pre>npx wrangler secret put ADMIN_TOKEN</pre>
  <p>Locally, <code>npm start</code> prints the admin token it sets.</p>
</section>`;

/** The page; `enabled` is whether a token that opens it is set (else it says how to set one). */
export function statusHtml(enabled: boolean): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>ndc-segment · status</title>
<link rel="icon" href="data:,">
<style>${STATUS_STYLE}</style>
</head>
<body data-enabled="${enabled ? 'true' : 'false'}">
<header>
  <h1>ndc-segment <small>status</small></h1>
  <form id="login" autocomplete="off">
    <label for="token">Admin token</label>
    <input id="token" type="password" data-testid="status-token" autocomplete="off" required>
    <button type="submit" data-testid="status-connect">Show</button>
  </form>
  <button id="forget" type="button" hidden>Forget token</button>
  <p id="notice" role="status" data-testid="status-notice"></p>
  <span id="updated" data-testid="status-updated"></span>
  <a href="/debugger">Debugger</a>
</header>
${DISABLED}
<section id="intro">
  <p>Each source's last hour, minute by minute: events received, delivered, rejected and
  dead-lettered, and how long delivery took. Enter the admin token (<code>ADMIN_TOKEN</code>)
  or the read-only <code>DEBUGGER_TOKEN</code> to start; the debugger's sign-in in this tab counts too. Counts arrive within about
  <code>METRICS_FLUSH_SECONDS</code> (10 s) and the page refreshes every ${STATUS_REFRESH_SECONDS} s.</p>
</section>
<main id="app" hidden>
  <div id="sources"></div>
  <p id="empty" class="empty" hidden>No source is configured and nothing was received in the last hour.</p>
</main>
<script>${STATUS_SCRIPT}</script>
</body>
</html>
`;
}
