"""The server's side of the bus: commands in, calls and retained state out.

One worker thread owns the :class:`~broker.bus.BusClient`: it drains the bus
inbox (``bus.dispatch``) and the queue of service changes handed over by
``QueueService.add_listener``. It applies counter commands through
``QueueService.counter_action`` (idempotent by the command's id). Calls leave
by one path only, whoever made them (a box over the bus, a panel over HTTP):
after every burst of changes the worker reads the committed calls above the
last seq it published (``QueueService.calls_after``, the call outbox) and
publishes each once, in seq order, with none skipped (QoS 1, not retained);
then the retained state the burst touched (:func:`touched`): the state of
each counter whose view changed (its own action or command result, or a
waiting count of a service it serves), the board snapshot and the queue
summary. Work per change is proportional to the change, not to the number of
counters. All retained state is republished at start-up, on every reconnect,
when the service day turns and every ``state_refresh_s`` (devices learn the
server's time from it).

A command is refused, and changes nothing, when it is malformed, retained,
sent to another counter's topic than its payload names, over its counter's
press rate, or older than the site's ``max_command_age_s`` by the server's
clock. Each refusal is counted in :attr:`Bridge.stats` and logged with its
reason (a few a minute). What one device may cost the others (flood pauses,
press rate, audit identity) is ``server/intake.py``; whether the bus is moving
is :meth:`Bridge.health` and :meth:`Bridge.alive`.

Example::

    bridge = Bridge(svc, site, {"host": "127.0.0.1", "port": 1883})
    bridge.start()
    ...
    bridge.stop()
"""
from __future__ import annotations

import collections
import logging
import threading
import time

from broker.bus import BusClient, Incoming
from broker.protocol import (CALL_FRESH_S, ROLES, BoardSnapshot, CallEvent, CommandResult, CounterCommand,
                             CounterState, Presence, PrinterStatus, ProtocolError, QueueSummary, decode, encode)
from server.clock import ServerClock, iso_local
from server.errors import QueueError
from server.intake import (COMMAND_FLOOD, STATUS_FLOOD, CommandBuckets, FloodGuard, LogThrottle,
                           bus_device)
from server import smiley
from server.presence import DeviceBook

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 60  # commands sent during a short server reconnect still arrive
STATE_REFRESH_S = 30   # live state at least this often: devices learn server time from it
# The bus counts as dead (no more systemd watchdog pings, so systemd restarts
# the server) only when the bus client's own recovery has not helped for this long.
BUS_DEAD_S = 60
# The server probes its session after this long without a publish (see
# BusClient.probe_s): a press stuck behind a flood is noticed within
# BUS_PROBE_S + STALL_S even while the server has nothing to send.
BUS_PROBE_S = 1.0


class Bridge:
    """Connects one QueueService to the broker; see the module docstring."""

    def __init__(self, svc, site, bus_kwargs: dict, max_command_age_s: float | None = None,
                 state_refresh_s: float = STATE_REFRESH_S, bus_dead_s: float = BUS_DEAD_S):
        if site.site_id != svc.site.site_id:
            raise ValueError(f"bridge for site {site.site_id!r} on a queue of site {svc.site.site_id!r}")
        self.svc = svc
        age = max_command_age_s if max_command_age_s is not None else getattr(site, "max_command_age_s", 10)
        self.max_command_age_ms = int(float(age) * 1000)
        self.clock = getattr(svc, "clock", None) or ServerClock()
        self.stats: collections.Counter = collections.Counter()
        # self.site, not site: an admin edit replaces the queue's site at run time.
        self.book = DeviceBook(now=lambda: iso_local(self.clock.epoch_ms(), self.site.tz))
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._changes: list[dict] = []
        self._last_result: dict[int, CommandResult] = {}
        self._last_seq: int | None = None  # the newest call published; set at start
        self._published_day: str | None = None  # the service day of the last board published
        self.state_refresh_s = state_refresh_s
        self._next_refresh = 0.0
        # A burst republishes 16+ retained topics; paho's cap counts in-flight ones too.
        kwargs = {"device": "server", "session_expiry_s": SESSION_EXPIRY_S, "max_queued": 1000,
                  "probe_s": BUS_PROBE_S, **bus_kwargs}
        self.bus = BusClient(site=site.site_id, role="server", wake=self._wake.set, **kwargs)
        self.topics = self.bus.topics
        # The intake's limits (server/intake.py): floods are paused in paho's
        # thread, presses beyond a person's pace are dropped per counter.
        self.guard = FloodGuard(self.bus.pause, self.bus.resume)
        self.bus.admit = self.guard.admit
        self.buckets = CommandBuckets()
        self._log = LogThrottle()
        self._command_filters: set[str] = set()
        self.bus_dead_s = bus_dead_s
        self._thread = threading.Thread(target=self._run, name="lalopa-bridge", daemon=True)

    @property
    def site(self):
        """The current site: the queue's, the one owner (admin edits included, after restarts too)."""
        return self.svc.site

    def site_changed(self) -> None:
        """An admin edit replaced the site: republish the retained state so every device's
        view (board snapshot, counter states) follows at once."""
        self._on_change({"type": "site"})

    # -- life cycle ---------------------------------------------------------

    def start(self) -> "Bridge":
        # Calls committed before this start are in the retained board already;
        # replaying them would announce old calls late.
        self._last_seq = self.svc.last_call_seq()
        # One subscription per counter (a flood pauses that counter only) and
        # per presence role; commands keep their retain flag (retain-as-published).
        self._sync_command_filters()
        for role in ROLES:
            self._listen(self.topics.presence(role, "+"), self._on_presence, STATUS_FLOOD)
        self._listen(self.topics.all_printers, self._on_printer, STATUS_FLOOD)
        # The counters' smiley pads: each vote goes to the survey store (server/smiley.py).
        self._listen(self.topics.all_smileys, lambda msg: smiley.on_vote(self, msg), STATUS_FLOOD)
        # Every (re)connect, and the first connect, republishes all retained state.
        self.bus.on_connected(lambda session_present: self._publish_state(force=True))
        self.svc.add_listener(self._on_change)
        self.bus.start()
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.bus.stop()

    def devices(self) -> list[dict]:
        """Presence and printer status of every device, for the dashboard.

        The server's own row says whether its bus is moving: a stalled or lost
        bus shows it ``offline`` (the dashboard raises its alert), with details."""
        rows = self.book.devices()
        health = self.health()
        mine = ("server", self.bus.device)
        row = next((r for r in rows if (r["role"], r["device"]) == mine), None)
        if row is None:
            row = {"role": "server", "device": self.bus.device, "last_seen": None, "printer": None}
            rows.insert(0, row)
        row["status"] = "online" if health["ok"] else "offline"
        row["bus"] = health["bus"]
        return rows

    def health(self) -> dict:
        """``ok`` when the bus is connected and acknowledging; the details."""
        bus = self.bus.health()
        return {"ok": bus["state"] == "ok", "bus": bus, "intake": self.guard.status(),
                "rate_limited": dict(self.buckets.limited)}

    def alive(self) -> bool:
        """False once no publish has been acknowledged for ``bus_dead_s`` while
        the broker was reachable (connected now or within that time), despite
        the client's own recoveries: the systemd watchdog then restarts the
        server. (The server publishes at least every BUS_PROBE_S, so a moving
        bus acknowledges something every second.) A broker that is down does
        not count: restarting the server would not bring it back, and the
        kiosks would lose the server for nothing."""
        bus = self.bus.health()
        since = bus["last_connect_s"]
        reachable = bus["connected"] or (since is not None and since < self.bus_dead_s)
        return not (reachable and bus["last_ack_s"] >= self.bus_dead_s)

    def _on_change(self, change: dict) -> None:
        # Called by QueueService after each commit, from any thread: enqueue only.
        with self._lock:
            self._changes.append(dict(change))
        self._wake.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(min(0.5, self.state_refresh_s))
            self._wake.clear()
            try:
                self.guard.tick()
                self._sync_command_filters()
                # Bounded batches, flushed in between, so a flood of commands
                # still gets its state published as it goes.
                while self.bus.dispatch(timeout=0, limit=200) == 200:
                    self._flush()
                self._flush()
                self._refresh_if_due()
            except Exception:  # the worker must survive anything a message does
                self.stats["errors"] += 1
                log.exception("bridge worker step failed")

    def _refresh_if_due(self) -> None:
        """Republish state now and then, so devices see a fresh server_time_ms
        even on a quiet afternoon (a retained copy may be hours old)."""
        now = time.monotonic()
        if now >= self._next_refresh and self.bus.connected.is_set():
            self._publish_state()
            self.stats["refresh"] += 1

    # -- inbound ------------------------------------------------------------

    def _listen(self, topic_filter: str, handler, limit) -> None:
        self.guard.watch(topic_filter, limit)
        self.bus.subscribe(topic_filter, handler, retain_as_published=handler == self._on_command)

    def _sync_command_filters(self) -> None:
        """Subscribe each counter's command topic (an admin edit may add or remove counters)."""
        wanted = {self.topics.command(c.number) for c in self.site.counters}
        for topic_filter in wanted - self._command_filters:
            self._listen(topic_filter, self._on_command, COMMAND_FLOOD)
        for topic_filter in self._command_filters - wanted:
            self.guard.forget(topic_filter)
            self.bus.unsubscribe(topic_filter)
        self._command_filters = wanted

    def _reject(self, reason: str, why: str, topic: str) -> None:
        self.stats[reason] += 1
        if self._log.allow(f"{reason} {topic}"):
            log.warning("bridge dropped message on %s: %s", topic, why)

    def _on_command(self, msg: Incoming) -> None:
        counter = self.topics.counter_of(msg.topic)
        if not msg.payload:
            return  # someone cleared a retained command topic: nothing to apply
        if msg.retain:
            # Never applied: a retained press would replay on every reconnect.
            # (Seen at all only because the subscription is retain-as-published.)
            # The server clears it so nobody receives it again.
            self.bus.clear_retained(msg.topic)
            return self._reject("retained_command", "retained command", msg.topic)
        try:
            cmd = decode(CounterCommand, msg.payload)
        except ProtocolError as exc:
            return self._reject("malformed", exc.reason, msg.topic)
        if cmd.counter != counter or self.site.counter(counter) is None:
            return self._reject("unauthorised",
                                f"command {cmd.id} for counter {cmd.counter} on topic of counter {counter}",
                                msg.topic)
        if not self.buckets.take(counter):
            # Faster than a person presses: dropped before the queue core, unanswered.
            return self._reject("rate_limited", f"command {cmd.id}: counter {counter} over its rate",
                                msg.topic)
        age_ms = self.clock.epoch_ms() - cmd.sent_at_ms
        if abs(age_ms) > self.max_command_age_ms:
            self._reject("stale", f"command {cmd.id} is {age_ms} ms old", msg.topic)
            return self._set_result(counter, CommandResult(id=cmd.id, ok=False, code="stale"))
        self._apply(counter, cmd)

    def _apply(self, counter: int, cmd: CounterCommand) -> None:
        try:
            # The audit identity is the credential's, never the payload's:
            # only counter N's own box and panel may write its command topic (ACL).
            result = self.svc.counter_action(counter, cmd.action, command_id=cmd.id,
                                             device=bus_device(counter), reason=cmd.reason)
        except QueueError as exc:
            self.stats["refused"] += 1
            log.info("command %s refused: %s", cmd.id, exc.code)
            return self._set_result(counter, CommandResult(id=cmd.id, ok=False, code=exc.code[:64]))
        except Exception:  # e.g. a disk error: count it, tell the box, keep the bridge alive
            self.stats["errors"] += 1
            log.exception("command %s failed", cmd.id)
            return self._set_result(counter, CommandResult(id=cmd.id, ok=False, code="server_error"))
        self.stats["duplicate" if result.get("duplicate") else "applied"] += 1
        # Its call (if any) leaves through the outbox in _flush, in seq order.
        self._set_result(counter, CommandResult(id=cmd.id, ok=bool(result.get("ok", True))))

    def _set_result(self, counter: int, result: CommandResult) -> None:
        self._last_result[counter] = result
        self._on_change({"type": "counter", "counter": counter})

    def _on_presence(self, msg: Incoming) -> None:
        who = self.topics.presence_of(msg.topic)
        if who is None:
            return
        if not msg.payload:
            return self.book.forget(*who)
        try:
            presence = decode(Presence, msg.payload)
        except ProtocolError as exc:
            return self._reject("malformed", exc.reason, msg.topic)
        if (presence.role, presence.device) != who:
            return self._reject("mismatch", f"presence of {presence.device} on {msg.topic}", msg.topic)
        self.book.presence(presence)

    def _on_printer(self, msg: Incoming) -> None:
        kiosk = self.topics.kiosk_of(msg.topic)
        if kiosk is None or not msg.payload:
            return
        try:
            status = decode(PrinterStatus, msg.payload)
        except ProtocolError as exc:
            return self._reject("malformed", exc.reason, msg.topic)
        if status.kiosk != kiosk:
            return self._reject("mismatch", f"printer of {status.kiosk} on {msg.topic}", msg.topic)
        self.book.printer(status)

    # -- outbound -----------------------------------------------------------

    def _flush(self) -> None:
        """Publish the new calls in seq order, then the retained state once per burst."""
        with self._lock:
            changes, self._changes = self._changes, []
        if not changes:
            return
        if any(change.get("type") == "call" for change in changes):
            self._publish_calls()
        counters, board, summary = touched(self.site, changes)
        self._publish_state(counters=counters, board=board, summary=summary)

    def _publish_calls(self) -> None:
        """Every committed call above the last one published, from the outbox, in seq order.

        Reading the committed calls (not the change notices) is what makes a
        call impossible to skip: a seq is published once, and never before a
        lower one, however the box and panel commits interleaved.
        """
        while True:
            calls = self.svc.calls_after(self._last_seq)
            for call in calls:
                self._last_seq = int(call["seq"])
                try:
                    event = CallEvent.from_dict(call)
                except ProtocolError as exc:
                    self._reject("bad_outbound", f"call event {call['seq']}: {exc.reason}", self.topics.call)
                    continue
                self.bus.publish(self.topics.call, encode(event), qos=1, retain=False,
                                 expiry_s=CALL_FRESH_S)
                self.stats["calls_published"] += 1
            if not calls:
                return

    def _publish_state(self, force: bool = False, counters: set[int] | None = None,
                       board: bool = True, summary: bool = True) -> None:
        """The retained state: the states of ``counters`` (None: every counter), the board
        and the summary (when asked), retained. With no arguments: all of it.

        Each piece is read and published on its own: one failing read (or an
        out-of-contract dict) is logged and counted and never blocks the rest.
        """
        everything = counters is None
        try:
            # One consistent read serves the board and every counter's state (a counter's
            # view is its board tile plus the waiting count of its services): the cost
            # of a burst is one read, however many counters it touched.
            view = self.svc.board()
        except Exception:
            self.stats["errors"] += 1
            log.exception("reading the board failed")
            view = None
        if view is not None and view.get("service_day") != self._published_day:
            # A new service day closes every counter: all of them, whatever the change.
            everything = everything or self._published_day is not None
            board = True
            self._published_day = view.get("service_day")
        if board and view is not None:
            self._retain(self.topics.board, BoardSnapshot,
                         lambda: board_dict(self.site, view, self.clock.epoch_ms()))
        numbers = [c.number for c in self.site.counters if everything or c.number in counters]
        tiles = {c["counter"]: c for c in (view or {}).get("counters", ())}
        for n in numbers:
            self._retain(self.topics.counter_state(n), CounterState,
                         lambda n=n: counter_state_dict(self._counter_view(n, tiles, view),
                                                        self.clock.epoch_ms(), self._last_result.get(n)))
        if summary:
            self._retain(self.topics.summary, QueueSummary,
                         self.svc.queue_summary)  # the same builder as GET /api/v1/queue
        self.stats["counter_states_published"] += len(numbers)
        if everything and board and summary:
            self._next_refresh = time.monotonic() + self.state_refresh_s
        if force:
            self.stats["full_republish"] += 1

    def _counter_view(self, n: int, tiles: dict, board: dict | None) -> dict:
        """Counter ``n``'s state from the board read (as ``QueueService.counter_state``)."""
        cfg, tile = self.site.counter(n), tiles.get(n)
        if cfg is None or tile is None or board is None:
            return self.svc.counter_state(n)  # a counter the board read did not hold
        waiting = board.get("waiting") or {}
        return {**tile, "waiting": sum(int(waiting.get(s, 0)) for s in cfg.services)}

    def _retain(self, topic: str, kind, build) -> dict | None:
        """Build, check and publish one retained payload; returns the dict built (None on failure)."""
        try:
            built = build()
            payload = encode(kind.from_dict(built))
        except ProtocolError as exc:
            return self._reject("bad_outbound", f"{kind.__name__}: {exc.reason}", topic)
        except Exception:
            self.stats["errors"] += 1
            return log.exception("reading state for %s failed", topic)
        self.bus.publish(topic, payload, qos=1, retain=True)
        return built


def touched(site, changes: list[dict]) -> tuple[set[int] | None, bool, bool]:
    """Which retained state a burst of changes can have altered: (counters, board, summary).

    ``counters`` None means every counter. A counter's state shows its status, its
    ticket, the result of its last command and the number waiting in the services it
    serves, so:

    - a command result only (``{"type": "counter"}`` without an action): that counter;
    - a counter action: that counter, and every counter sharing a service with it (the
      ticket it called, skipped or transferred waited in one of its services), plus the
      board and the summary;
    - a ticket change (issued, or an action on it): the counters serving its service now,
      plus the board and the summary (a transfer's old service is covered by the action
      of the counter that made it);
    - a call: the board (its recent calls); the running text: the board;
    - anything else (an admin edit of the site): everything.
    """
    counters: set[int] = set()
    board = summary = False
    for change in changes:
        kind = change.get("type")
        if kind == "counter" and isinstance(change.get("counter"), int):
            n = change["counter"]
            counters.add(n)
            if change.get("action") is not None:
                cfg = site.counter(n)
                served = set(cfg.services) if cfg is not None else set()
                counters.update(c.number for c in site.counters if served & set(c.services))
                board = summary = True
        elif kind == "ticket" and isinstance(change.get("ticket"), dict):
            service = change["ticket"].get("service")
            counters.update(c.number for c in site.counters if service in c.services)
            board = summary = True
        elif kind in ("call", "settings"):
            board = True
        else:
            return None, True, True
    return counters, board, summary


# -- QueueService dicts -> protocol payload dicts -----------------------------


def ticket_ref(ticket: dict | None) -> dict | None:
    """A service ticket dict as the bus's TicketRef."""
    if not ticket:
        return None
    return {"number": ticket["number"], "service": ticket["service"], "status": ticket["status"],
            "priority": ticket.get("priority"), "since": ticket.get("called_at") or ticket.get("since")}


def counter_state_dict(view: dict, now_ms: int, last: CommandResult | None) -> dict:
    return {"counter": view["counter"], "name": view["name"], "status": view["status"],
            "waiting": view.get("waiting", 0), "server_time_ms": now_ms,
            "ticket": ticket_ref(view.get("ticket")), "pause_reason": view.get("pause_reason"),
            "last_command": None if last is None else {"id": last.id, "ok": last.ok, "code": last.code}}


def board_dict(site, board: dict, now_ms: int) -> dict:
    waiting = board.get("waiting") or {}
    return {"site": board.get("site", site.site_id), "facility": board.get("facility", site.facility),
            "service_day": board["service_day"], "server_time_ms": now_ms, "tz": site.timezone,
            "seq": board.get("seq", 0),
            "counters": [{"counter": c["counter"], "name": c["name"], "status": c["status"],
                          "ticket": ticket_ref(c.get("ticket"))} for c in board.get("counters", ())],
            "recent": list(board.get("recent", ())),
            "services": [{"prefix": s.prefix, "name_id": s.name_id, "name_en": s.name_en,
                          "waiting": int(waiting.get(s.prefix, 0))} for s in site.services],
            "running_text": board.get("running_text") or ""}


def start_bridge(app_or_svc, svc, site, args) -> Bridge:
    """Start the bridge for ``lalopa server --mqtt-host ...``.

    ``args`` carries mqtt_host, mqtt_port, mqtt_user, mqtt_password_file and
    optionally mqtt_tls_ca. With a Flask app the bridge becomes
    ``app.extensions["lalopa.bridge"]`` so the dashboard can list devices.
    """
    password = None
    if getattr(args, "mqtt_password_file", None):
        with open(args.mqtt_password_file, encoding="utf-8") as fh:
            password = fh.read().strip()
    bus_kwargs = {"host": args.mqtt_host, "port": int(getattr(args, "mqtt_port", None) or 1883),
                  "username": getattr(args, "mqtt_user", None), "password": password,
                  "tls_ca": getattr(args, "mqtt_tls_ca", None)}
    bridge = Bridge(svc, site, bus_kwargs).start()
    extensions = getattr(app_or_svc, "extensions", None)
    if isinstance(extensions, dict):
        extensions["lalopa.bridge"] = bridge
    return bridge
