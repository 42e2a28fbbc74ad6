/* Shared live-update plumbing: an EventSource that reconnects by itself.
   The server sends a full snapshot in every "state" event, so after any
   reconnect the page is right again with the next message. */
(function () {
  "use strict";
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in (attrs || {})) { e.setAttribute(k, attrs[k]); }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function fmtDuration(s) {
    if (s === null || s === undefined) { return "–"; }
    s = Math.max(0, Math.round(s));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m));
    return (h ? h + ":" : "") + mm + ":" + String(r).padStart(2, "0");
  }
  function clock(iso) { return iso ? iso.substr(11, 5) : "–"; }
  function connect(urls, onState, onConn) {
    var source = null, retryMs = 2000, pollTimer = null;
    function open() {
      source = new EventSource(urls.events);
      source.addEventListener("state", function (ev) {
        retryMs = 2000; onConn(true); onState(JSON.parse(ev.data));
      });
      source.onerror = function () {
        onConn(false);
        if (source.readyState === EventSource.CLOSED) {
          // the browser gave up (a 401 after the session expired, or 503 when the server has no
          // stream slot free): poll the snapshot meanwhile and retry the stream with back-off
          source = null;
          poll();
          setTimeout(open, retryMs); retryMs = Math.min(retryMs * 2, 30000);
        }
      };
    }
    function poll() {
      fetch(urls.state, {credentials: "same-origin"}).then(function (r) {
        if (r.status === 401) { window.location = urls.login + "?next=" + encodeURIComponent(location.pathname); return; }
        if (r.ok) { r.json().then(onState); }
      }).catch(function () {});
      clearTimeout(pollTimer);  // one polling loop at most
      pollTimer = setTimeout(function () { if (source === null) { poll(); } }, 3000);
    }
    open();
  }
  function commandId() {
    // crypto.randomUUID needs a secure context; plain http on the office LAN is not one
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return x.toString(16).padStart(2, "0"); }).join("");
  }
  window.Live = {el: el, fmtDuration: fmtDuration, clock: clock, connect: connect, commandId: commandId};
})();
