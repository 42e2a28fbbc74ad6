/* The verifier panel: buttons, keyboard shortcuts and live state for one counter.
   Each click makes one command_id; a retry after a network error reuses it, so
   the server answers the retry from its idempotency record (never a double call). */
(function () {
  "use strict";
  var L = window.Live, cfg = window.LALOPA;
  var S = JSON.parse(document.getElementById("strings").textContent);
  var snap = null, offsetMs = 0, busy = false;

  function message(text, kind) { var m = document.getElementById("msg"); m.textContent = text; m.className = "msg " + kind; }

  function render(s) {
    snap = s; offsetMs = s.server_ms - Date.now();
    var st = document.getElementById("counter-status");
    st.textContent = (S[s.status] || s.status) + (s.pause_reason ? ": " + s.pause_reason : "");
    st.className = "pill " + s.status;
    var num = document.getElementById("current-number");
    num.textContent = s.ticket ? s.ticket.number : S.none;
    num.className = "number" + (s.ticket ? "" : " empty");
    var cs = document.getElementById("current-status");
    cs.textContent = s.ticket ? (S[s.ticket.status] || s.ticket.status) : "";
    document.getElementById("waiting-count").textContent = s.waiting;
    var q = document.getElementById("queue"); q.textContent = "";
    s.queue.forEach(function (t) {
      var li = L.el("li", {"data-number": t.number}, t.number + (t.priority ? " ★ " + t.priority : "") + " · " + L.fmtDuration(t.wait_s));
      q.appendChild(li);
    });
    var has = !!s.ticket;
    ["recall", "finish", "no_show"].forEach(function (a) { document.getElementById("btn-" + a).disabled = !has; });
    document.getElementById("btn-start").disabled = !(has && s.ticket.status === "called");
    document.getElementById("btn-resume").hidden = s.status !== "paused";
    document.getElementById("btn-open").hidden = s.status !== "closed";
    document.getElementById("btn-close").hidden = s.status === "closed";
    tick();
  }
  function tick() {
    var e = document.getElementById("elapsed");
    e.textContent = snap && snap.ticket && snap.ticket.since_ms ? L.fmtDuration((Date.now() + offsetMs - snap.ticket.since_ms) / 1000) : "–";
  }
  function send(body, attempt) {
    return fetch(cfg.action, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": cfg.csrf}, body: JSON.stringify(body)})
      .then(function (r) {
        if (r.status === 401) { window.location = cfg.login + "?next=" + encodeURIComponent(location.pathname); }
        return r.json().then(function (data) { return {ok: r.ok, data: data}; });
      })
      .catch(function (err) {
        if (attempt < 3) {  // same command_id: safe to retry
          return new Promise(function (res) { setTimeout(res, 500 * (attempt + 1)); }).then(function () { return send(body, attempt + 1); });
        }
        throw err;
      });
  }
  function act(action, extra) {
    if (busy) { return; }
    busy = true;
    var body = Object.assign({action: action, command_id: L.commandId()}, extra || {});
    send(body, 0).then(function (res) {
      if (res.ok) {
        // what happened, in words ("Nomor A-012 dipanggil ulang"), never the raw action name
        var num = res.data.ticket ? res.data.ticket.number : "";
        var text = S["did_" + action] || S.done_ok;
        message(text.replace("{number}", num).replace("  ", " "), "ok");
        refresh();
      } else {
        var e = res.data.error || {};
        message((e.message_id || "?") + " / " + (e.message_en || ""), "error");
      }
    }).catch(function () { message(S.reconnecting, "error"); })
      .then(function () { busy = false; });
  }
  function refresh() {
    fetch(cfg.state, {credentials: "same-origin"}).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (s) { render(s); } }).catch(function () {});
  }
  document.querySelectorAll("button[data-action]").forEach(function (b) {
    b.addEventListener("click", function () { act(b.dataset.action); });
  });
  document.querySelectorAll("form[data-action]").forEach(function (f) {
    f.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var extra = {}; new FormData(f).forEach(function (v, k) { extra[k] = v; });
      act(f.dataset.action, extra);
    });
  });
  var KEYS = {n: "next", r: "recall", s: "start", f: "finish", x: "no_show"};
  document.addEventListener("keydown", function (ev) {
    var tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea" || ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var k = ev.key.toLowerCase();
    if (KEYS[k]) { ev.preventDefault(); var b = document.getElementById("btn-" + KEYS[k]); if (!b.disabled) { act(KEYS[k]); } }
    else if (k === "p") { ev.preventDefault(); document.getElementById("pause-reason").focus(); }
  });
  function conn(ok) {
    var e = document.getElementById("conn");
    e.textContent = ok ? S.connected : S.reconnecting; e.className = "pill " + (ok ? "online" : "offline");
  }
  render(JSON.parse(document.getElementById("initial").textContent));
  setInterval(tick, 1000);
  L.connect(cfg, render, conn);
})();
