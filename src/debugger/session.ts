// The operator pages' sign-in, shared by the debugger (/debugger) and the status page (/status):
// a script defining `ndcSession`, which keeps the token in sessionStorage only (it goes when the
// tab closes, and one sign-in serves both pages in that tab) and sends it as a Bearer header,
// never in a URL. Pure data: each page inlines it before its own script.

export const SESSION_SCRIPT = String.raw`
var ndcSession = (function () {
  'use strict';
  var TOKEN_KEY = 'ndc-segment.debugger.token';
  // Storage may be refused (a sandboxed frame, a locked-down browser): the page then asks again
  // on every load.
  function get() { try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; } }
  function set(v) { try { sessionStorage.setItem(TOKEN_KEY, v); } catch (e) { /* kept in memory only */ } }
  function forget() { try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* nothing kept */ } }
  // A JSON answer, or an Error with the answer's message and .status.
  function api(method, path, token) {
    return fetch(path, {
      method: method,
      headers: { Authorization: 'Bearer ' + token },
      cache: 'no-store'
    }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (body) {
        if (res.ok) return body;
        var e = new Error((body && body.error && body.error.message) || ('HTTP ' + res.status));
        e.status = res.status;
        throw e;
      });
    });
  }
  return { get: get, set: set, forget: forget, api: api };
})();
`;
