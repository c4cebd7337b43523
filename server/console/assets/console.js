// The console's htmx settings (issue 16). Loaded after htmx.min.js, both `defer`, so this runs
// before htmx reads its settings at DOMContentLoaded. Kept in a served file, not an inline
// <script> or <meta>, because the Content-Security-Policy allows no inline script.
(function () {
  'use strict';
  if (!window.htmx) {
    return;
  }
  var c = window.htmx.config;
  // htmx would add an inline <style> for its indicators; console.css has those rules, and the
  // CSP (style-src 'self') would refuse the inline one anyway.
  c.includeIndicatorStyles = false;
  // No script from a response is run, no hx-on / js: expressions are evaluated: a swapped
  // fragment is data, never code.
  c.allowEval = false;
  c.allowScriptTags = false;
  // Requests only to this server.
  c.selfRequestsOnly = true;
  // History snapshots would keep pages with personal data in localStorage on a shared desk
  // computer: keep none, and reload from the server on back/forward.
  c.historyCacheSize = 0;
  c.refreshOnHistoryMiss = true;
  // The session's CSRF token (a <meta name="csrf-token"> when the page has one) on every
  // htmx request, as the X-CSRF-Token header the server checks on POSTs.
  document.addEventListener('htmx:configRequest', function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) {
      e.detail.headers['X-CSRF-Token'] = meta.content;
    }
  });
})();
