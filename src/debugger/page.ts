// The debugger page served at GET /debugger: one self-contained HTML document, its CSS and script
// inline (no external host, no build step), allowed by a Content-Security-Policy that names their
// SHA-256 hashes. Pure data and string assembly.
//
// What the script does: asks for the admin token (kept in sessionStorage only, sent as a Bearer
// header, never in a URL: session.ts, shared with the status page); lists the sources (GET
// /debugger/sources); for the chosen one, arms it and gets a WebSocket ticket (POST /debugger/watch, renewed every renewSeconds), opens
// /debugger/ws with the ticket, and shows the ring it receives and every batch after it, newest
// first. Pause, clear and filters act on the page only.

import { SESSION_SCRIPT } from './session';

export const PAGE_STYLE = String.raw`
:root { color-scheme: light dark; --ok: #137333; --bad: #b3261e; --muted: #5f6368;
  --line: #dadce0; --bg-alt: #f6f8fa; --sel: #e8f0fe; }
@media (prefers-color-scheme: dark) { :root { --ok: #81c995; --bad: #f28b82; --muted: #9aa0a6;
  --line: #3c4043; --bg-alt: #202124; --sel: #1c3a5e; } }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; padding: 10px 16px;
  border-bottom: 1px solid var(--line); }
h1 { font-size: 16px; margin: 0 12px 0 0; }
h1 small { font-weight: normal; color: var(--muted); }
form, .toolbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.toolbar { padding: 8px 16px; border-bottom: 1px solid var(--line); }
label { color: var(--muted); }
input, select, button { font: inherit; padding: 3px 8px; }
button { cursor: pointer; }
#notice { margin: 0; }
#notice[data-kind="error"] { color: var(--bad); font-weight: 600; }
#connection { font-size: 12px; padding: 2px 8px; border-radius: 10px; border: 1px solid var(--line); }
#connection[data-state="live"] { color: var(--ok); border-color: var(--ok); }
#counts { color: var(--muted); margin-left: auto; }
.split { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); height: calc(100vh - 100px); }
.list { overflow: auto; border-right: 1px solid var(--line); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { position: sticky; top: 0; background: var(--bg-alt); font-weight: 600; }
tbody tr { cursor: pointer; }
tbody tr:hover { background: var(--bg-alt); }
tbody tr[aria-selected="true"] { background: var(--sel); }
td.time { font-variant-numeric: tabular-nums; white-space: nowrap; color: var(--muted); }
.badge { font-size: 12px; font-weight: 600; padding: 1px 6px; border-radius: 4px; border: 1px solid; }
.badge.accepted { color: var(--ok); }
.badge.rejected { color: var(--bad); }
td.error code { color: var(--bad); }
td.error .field { color: var(--muted); }
aside { overflow: auto; padding: 8px 16px; }
aside h2 { font-size: 14px; margin: 4px 0 8px; }
pre { margin: 0; font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  white-space: pre-wrap; word-break: break-word; }
.truncated { color: var(--bad); font-weight: 600; }
.empty { color: var(--muted); padding: 16px; }
#disabled, #intro { max-width: 760px; padding: 8px 16px; }
#intro { color: var(--muted); }
#disabled code, #disabled pre { background: var(--bg-alt); }
#disabled pre { padding: 8px; }
`;

export const PAGE_SCRIPT =
  SESSION_SCRIPT +
  String.raw`
'use strict';
(function () {
  var MAX_ROWS = 500;
  var PING_MS = 30000;
  var RECONNECT_MS = 2000;
  var $ = function (id) { return document.getElementById(id); };
  if (document.body.dataset.enabled !== 'true') {
    $('login').hidden = true;
    $('intro').hidden = true;
    $('disabled').hidden = false;
    return;
  }
  // The token: sessionStorage only, shared with the status page (src/debugger/session.ts).
  var stored = ndcSession;
  var state = {
    token: stored.get(),
    source: new URLSearchParams(location.search).get('source') || '',
    events: [], held: [], skipped: 0, skippedBase: 0, paused: false, selected: null,
    socket: null, timers: [], renew: null, generation: 0
  };

  function notice(text, kind) {
    $('notice').textContent = text;
    $('notice').dataset.kind = kind || 'info';
  }

  function connection(text, live) {
    $('connection').textContent = text;
    $('connection').dataset.state = live ? 'live' : 'down';
  }

  function api(method, path) {
    return ndcSession.api(method, path, state.token);
  }

  // Back to the login form, the token dropped from memory and sessionStorage.
  function signOut(message, kind) {
    stop();
    stored.forget();
    state.token = '';
    $('app').hidden = true;
    $('intro').hidden = false;
    $('login').hidden = false;
    $('forget').hidden = true;
    notice(message, kind);
  }

  function refused(e) {
    if (e.status !== 401) { notice(e.message, 'error'); return; }
    signOut('Wrong admin token: the collector answered 401. Enter ADMIN_TOKEN again.', 'error');
  }

  function stop() {
    state.generation += 1;
    state.timers.forEach(function (t) { clearTimeout(t); });
    state.timers = [];
    if (state.renew !== null) { clearInterval(state.renew); state.renew = null; }
    if (state.socket) { state.socket.close(); state.socket = null; }
    connection('disconnected', false);
  }

  function start() {
    notice('Connecting…');
    api('GET', '/debugger/sources').then(function (body) {
      stored.set(state.token);
      $('login').hidden = true;
      $('intro').hidden = true;
      $('forget').hidden = false;
      $('app').hidden = false;
      var select = $('source');
      select.textContent = '';
      body.sources.forEach(function (name) {
        var option = document.createElement('option');
        option.value = name;
        option.textContent = name;
        select.appendChild(option);
      });
      if (body.sources.length === 0) { notice('No source is configured (WRITE_KEYS is empty).', 'error'); return; }
      if (state.source && body.sources.indexOf(state.source) === -1) {
        notice('No source named "' + state.source + '": pick one below.', 'error');
        state.source = '';
      } else {
        notice('');
      }
      if (!state.source) state.source = body.sources[0];
      select.value = state.source;
      watch(state.source);
    }, refused);
  }

  function watch(name) {
    stop();
    var generation = state.generation;
    state.source = name;
    state.events = []; state.held = []; state.skipped = 0; state.skippedBase = 0; state.selected = null;
    var url = new URL(location.href);
    url.searchParams.set('source', name);
    history.replaceState(null, '', url);
    render();
    detail(null);
    connection('connecting', false);
    arm(generation, true);
  }

  function arm(generation, open) {
    return api('POST', '/debugger/watch?source=' + encodeURIComponent(state.source)).then(function (w) {
      if (generation !== state.generation) return;
      if (open) connect(generation, w.ticket);
      // The lease on the source lapses unless renewed while the page is open.
      if (state.renew === null) {
        state.renew = setInterval(function () { arm(generation, false); }, w.renewSeconds * 1000);
      }
    }, function (e) {
      if (generation !== state.generation) return;
      refused(e);
      if (open && e.status !== 401) state.timers.push(setTimeout(function () { arm(generation, true); }, RECONNECT_MS));
    });
  }

  function connect(generation, ticket) {
    var url = new URL('/debugger/ws', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('source', state.source);
    url.searchParams.set('ticket', ticket);
    var ws = new WebSocket(url);
    state.socket = ws;
    var pinger = null;
    ws.onopen = function () {
      connection('live', true);
      // Answered by the object's auto-response without waking it.
      pinger = setInterval(function () { if (ws.readyState === 1) ws.send('ping'); }, PING_MS);
    };
    ws.onmessage = function (m) {
      if (m.data === 'pong') return;
      var message = JSON.parse(m.data);
      if (message.kind === 'snapshot') {
        state.events = message.events.slice(0, MAX_ROWS);
        state.held = [];
      } else {
        message.events.forEach(function (e) {
          (state.paused ? state.held : state.events).unshift(e);
        });
        state.events.length = Math.min(state.events.length, MAX_ROWS);
        state.held.length = Math.min(state.held.length, MAX_ROWS);
      }
      state.skipped = message.skipped;
      render();
    };
    ws.onclose = function () {
      clearInterval(pinger);
      if (generation !== state.generation) return;
      connection('reconnecting', false);
      state.timers.push(setTimeout(function () { arm(generation, true); }, RECONNECT_MS));
    };
  }

  function pad(n, width) { return String(n).padStart(width, '0'); }

  function time(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    return pad(d.getHours(), 2) + ':' + pad(d.getMinutes(), 2) + ':' + pad(d.getSeconds(), 2) +
      '.' + pad(d.getMilliseconds(), 3);
  }

  function cell(tr, className, text) {
    var td = document.createElement('td');
    if (className) td.className = className;
    if (text !== undefined) td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function shown(e) {
    var type = $('f-type').value;
    var status = $('f-status').value;
    var name = $('f-event').value.trim().toLowerCase();
    return (!type || e.type === type) && (!status || e.status === status) &&
      (!name || (e.event || '').toLowerCase().indexOf(name) !== -1);
  }

  function render() {
    var body = $('rows');
    var rows = document.createDocumentFragment();
    var visible = state.events.filter(shown);
    visible.forEach(function (e) {
      var tr = document.createElement('tr');
      tr.dataset.testid = 'debugger-event';
      tr.dataset.status = e.status;
      tr.dataset.seq = String(e.seq);
      tr.setAttribute('aria-selected', String(state.selected === e.seq));
      cell(tr, 'time', time(e.receivedAt)).title = e.receivedAt;
      cell(tr, 'type', e.type || '—');
      cell(tr, 'event', e.event || '');
      var badge = document.createElement('span');
      badge.className = 'badge ' + e.status;
      badge.dataset.testid = 'debugger-status';
      badge.textContent = e.status;
      cell(tr, 'status').appendChild(badge);
      var error = cell(tr, 'error');
      if (e.error) {
        var code = document.createElement('code');
        code.dataset.testid = 'debugger-error-code';
        code.textContent = e.error.code;
        error.appendChild(code);
        error.appendChild(document.createTextNode(' ' + e.error.message));
        if (e.error.field) {
          var field = document.createElement('span');
          field.className = 'field';
          field.textContent = ' (' + e.error.field + ')';
          error.appendChild(field);
        }
      }
      tr.addEventListener('click', function () { state.selected = e.seq; detail(e); render(); });
      rows.appendChild(tr);
    });
    body.textContent = '';
    body.appendChild(rows);
    $('empty').hidden = visible.length > 0;
    var counts = visible.length + ' of ' + state.events.length + ' shown';
    var skipped = state.skipped - state.skippedBase;
    if (skipped > 0) counts += ' · ' + skipped + ' skipped by sampling (over 100 events/s)';
    if (state.held.length > 0) counts += ' · ' + state.held.length + ' new while paused';
    $('counts').textContent = counts;
  }

  function detail(e) {
    var pre = $('json');
    var heading = $('detail-heading');
    var marker = $('truncated');
    if (!e) {
      heading.textContent = 'Event';
      pre.textContent = 'Click an event to see its JSON: as queued (enriched) when accepted, as received when rejected.';
      marker.hidden = true;
      return;
    }
    heading.textContent = (e.type || 'request') + (e.event ? ' · ' + e.event : '') + ' · ' + e.status;
    var meta = { receivedAt: e.receivedAt, status: e.status, messageId: e.messageId, error: e.error };
    var payload = e.truncated ? e.payload : JSON.stringify(e.payload, null, 2);
    pre.textContent = JSON.stringify(meta, null, 2) + '\n\npayload:\n' + payload;
    marker.hidden = !e.truncated;
    marker.textContent = e.truncated ? 'Truncated: the first 8 KiB of ' + e.bytes + ' bytes.' : '';
  }

  $('login').addEventListener('submit', function (ev) {
    ev.preventDefault();
    state.token = $('token').value.trim();
    $('token').value = '';
    if (state.token) start();
  });
  $('forget').addEventListener('click', function () {
    signOut('Token forgotten.');
  });
  $('source').addEventListener('change', function () { watch($('source').value); });
  $('pause').addEventListener('click', function () {
    state.paused = !state.paused;
    $('pause').textContent = state.paused ? 'Resume' : 'Pause';
    $('pause').setAttribute('aria-pressed', String(state.paused));
    if (!state.paused) {
      state.events = state.held.concat(state.events).slice(0, MAX_ROWS);
      state.held = [];
    }
    render();
  });
  $('clear').addEventListener('click', function () {
    state.events = []; state.held = []; state.selected = null; state.skippedBase = state.skipped;
    detail(null);
    render();
  });
  ['f-type', 'f-status', 'f-event'].forEach(function (id) { $(id).addEventListener('input', render); });
  detail(null);
  if (state.token) start();
})();
`;

const TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'];

const DISABLED = `
<section id="disabled" hidden>
  <h2>The debugger is off: neither ADMIN_TOKEN nor DEBUGGER_TOKEN is set</h2>
  <p>The debugger shows every event a source sends, so it opens only with a token. Set the
  <code>ADMIN_TOKEN</code> secret (or the read-only <code>DEBUGGER_TOKEN</code>) and reload this
  page.</p>
  <p>Deployed collector:</p>
  <pre>npx wrangler secret put ADMIN_TOKEN</pre>
  <p>Local collector: <code>npm start</code> prints the local admin token it sets; with
  <code>wrangler dev</code> directly, pass <code>--var ADMIN_TOKEN:&lt;token&gt;</code> or put
  <code>ADMIN_TOKEN=&lt;token&gt;</code> in <code>.dev.vars</code>.</p>
</section>`;

/** The page; `enabled` is whether a token that opens it is set (else it says how to set one). */
export function pageHtml(enabled: boolean): string {
  const typeOptions = TYPES.map((t) => `<option>${t}</option>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>ndc-segment · debugger</title>
<link rel="icon" href="data:,">
<style>${PAGE_STYLE}</style>
</head>
<body data-enabled="${enabled ? 'true' : 'false'}">
<header>
  <h1>ndc-segment <small>live debugger</small></h1>
  <form id="login" autocomplete="off">
    <label for="token">Admin token</label>
    <input id="token" type="password" data-testid="debugger-token" autocomplete="off" required>
    <button type="submit" data-testid="debugger-connect">Connect</button>
  </form>
  <button id="forget" type="button" hidden>Forget token</button>
  <p id="notice" role="status" data-testid="debugger-notice"></p>
</header>
${DISABLED}
<section id="intro">
  <p>Every event a source sends, accepted or rejected, as it arrives: enter the admin token
  (<code>ADMIN_TOKEN</code>) to start. Locally, <code>npm start</code> prints it. The token is
  kept in this tab only.</p>
</section>
<main id="app" hidden>
  <div class="toolbar">
    <label for="source">Source</label>
    <select id="source" data-testid="debugger-source"></select>
    <span id="connection" data-testid="debugger-connection">disconnected</span>
    <button id="pause" type="button" aria-pressed="false" data-testid="debugger-pause">Pause</button>
    <button id="clear" type="button" data-testid="debugger-clear">Clear</button>
    <label for="f-type">Type</label>
    <select id="f-type" data-testid="debugger-filter-type"><option value="">all</option>${typeOptions}</select>
    <label for="f-event">Event</label>
    <input id="f-event" type="search" placeholder="event name" data-testid="debugger-filter-event">
    <label for="f-status">Status</label>
    <select id="f-status" data-testid="debugger-filter-status"><option value="">all</option><option>accepted</option><option>rejected</option></select>
    <span id="counts" data-testid="debugger-counts"></span>
  </div>
  <div class="split">
    <div class="list">
      <table>
        <thead><tr><th>Time</th><th>Type</th><th>Event</th><th>Status</th><th>Error</th></tr></thead>
        <tbody id="rows"></tbody>
      </table>
      <p id="empty" class="empty">No events yet. Send one: they appear here as they arrive.</p>
    </div>
    <aside>
      <h2 id="detail-heading">Event</h2>
      <p id="truncated" class="truncated" hidden></p>
      <pre id="json" data-testid="debugger-detail"></pre>
    </aside>
  </div>
</main>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
