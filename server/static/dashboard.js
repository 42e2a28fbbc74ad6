/* The supervisor's live view: renders each snapshot from /dashboard/events. */
(function () {
  "use strict";
  var L = window.Live, cfg = window.LALOPA;
  var S = JSON.parse(document.getElementById("strings").textContent);
  function txt(id, value) { document.getElementById(id).textContent = value; }

  function renderFigures(d) {
    var f = {issued: d.issued, served: d.served, no_show: d.no_show, waiting: d.waiting,
      mean_wait: L.fmtDuration(d.wait.mean_s), p90_wait: L.fmtDuration(d.wait.p90_s),
      mean_service: L.fmtDuration(d.service.mean_s), p90_service: L.fmtDuration(d.service.p90_s),
      within_target: d.within_target_text};  /* formatted by the server, as in the report */
    document.querySelectorAll("[data-fig]").forEach(function (e) { e.textContent = f[e.dataset.fig]; });
  }
  function renderServices(services) {
    var body = document.querySelector("#services tbody"); body.textContent = "";
    Object.keys(services).forEach(function (p) {
      var s = services[p], tr = L.el("tr", {"data-service": p});
      tr.appendChild(L.el("td", {}, p + " — " + (cfg.lang === "en" ? s.name_en : s.name_id)));
      [s.waiting, L.fmtDuration(s.longest_wait_s), L.fmtDuration(s.est_wait_s), s.issued, s.served, s.no_show]
        .forEach(function (v) { tr.appendChild(L.el("td", {"class": "num"}, v)); });
      body.appendChild(tr);
    });
  }
  function counterKind(c) {
    if (c.status === "closed" || c.status === "paused") { return c.status; }
    if (!c.ticket) { return "idle"; }
    return c.ticket.status === "serving" ? "serving" : "called";
  }
  function renderCounters(counters) {
    var box = document.getElementById("counters"); box.textContent = "";
    counters.forEach(function (c) {
      var kind = counterKind(c), card = L.el("div", {"class": "card ctr " + kind, "data-counter": c.counter});
      card.appendChild(L.el("div", {"class": "n"}, c.name));
      card.appendChild(L.el("div", {"class": "tk"}, c.ticket ? c.ticket.number : "—"));
      var line = S[kind] || kind;
      if (kind === "paused" && c.pause_reason) { line += ": " + c.pause_reason; }
      if (kind !== "closed" && kind !== "idle") { line += " · " + L.fmtDuration(c.busy_s); }
      card.appendChild(L.el("div", {"class": "st"}, line));
      box.appendChild(card);
    });
  }
  function renderAlerts(alerts) {
    var ul = document.getElementById("alerts"); ul.textContent = "";
    if (!alerts.length) { ul.appendChild(L.el("li", {"class": "none"}, S.no_alerts)); }
    alerts.forEach(function (a) { ul.appendChild(L.el("li", {"class": a.kind}, a.text)); });
  }
  function renderDevices(snap) {
    document.getElementById("no-bridge").hidden = snap.bridge;
    document.getElementById("devices").parentNode.hidden = !snap.bridge;
    var body = document.querySelector("#devices tbody"); body.textContent = "";
    (snap.devices || []).forEach(function (d) {
      var tr = L.el("tr", {"data-device": d.device});
      tr.appendChild(L.el("td", {}, d.device));
      tr.appendChild(L.el("td", {}, S["role_" + d.role] || d.role));
      var st = L.el("td"); st.appendChild(L.el("span", {"class": "pill " + d.status}, S[d.status] || d.status)); tr.appendChild(st);
      tr.appendChild(L.el("td", {}, d.last_seen ? d.last_seen.replace("T", " ").substr(0, 19) : "–"));
      var pr = L.el("td");
      if (d.printer) { pr.appendChild(L.el("span", {"class": "pill " + d.printer.status}, S["printer_" + d.printer.status] || d.printer.status)); }
      tr.appendChild(pr); body.appendChild(tr);
    });
  }
  function renderLimits(lim) {
    txt("limit-rule", lim.rule);
    document.getElementById("no-kiosk-requests").hidden = lim.kiosks.length > 0;
    var body = document.querySelector("#kiosk-limits tbody"); body.textContent = "";
    lim.kiosks.forEach(function (k) {
      var tr = L.el("tr", {"data-kiosk": k.device});
      if (k.recent) { tr.className = "recent"; }
      tr.appendChild(L.el("td", {}, k.device));
      tr.appendChild(L.el("td", {"class": "num", "data-col": "allowed"}, k.allowed));
      tr.appendChild(L.el("td", {"class": "num", "data-col": "limited"}, k.limited));
      tr.appendChild(L.el("td", {"data-col": "last_limited"}, k.last_limited ? k.last_limited.substr(11, 8) : "–"));
      body.appendChild(tr);
    });
  }
  function renderStaffing(s) {  // this hour's staffing advice beside the counters open now
    var box = document.getElementById("staffing-now");
    if (!box) { return; }
    box.hidden = !s;
    if (!s) { return; }
    txt("staffing-now-hour", (s.hour < 10 ? "0" : "") + s.hour + ":00");
    txt("staffing-now-advised", s.thin ? "?" : String(s.advised));
    txt("staffing-now-open", s.open.toFixed(1));
  }
  function render(snap) {
    txt("server-time", snap.service_day + " " + L.clock(snap.server_time));
    renderStaffing(snap.staffing);
    renderAlerts(snap.alerts); renderFigures(snap.today); renderServices(snap.services);
    renderCounters(snap.counters); renderDevices(snap); renderLimits(snap.kiosk_limits);
    document.body.dataset.serverTime = snap.server_time;
  }
  function conn(ok) {
    var e = document.getElementById("conn");
    e.textContent = ok ? S.connected : S.reconnecting; e.className = "pill " + (ok ? "online" : "offline");
  }
  render(JSON.parse(document.getElementById("initial").textContent));
  L.connect(cfg, render, conn);
})();
