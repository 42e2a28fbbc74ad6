"""The centre's bus side: take every site's batches and live state off the central broker.

One MQTT session with the central broker, persistent (MQTT 5 session expiry),
so batches that arrive while ``lalopa central serve`` restarts wait in the
broker for it. Paho's thread only queues messages; :meth:`Centre.step` drains
the queue, stores a drain's batches in one transaction, then acknowledges
each site (retained :class:`CityAck`) and asks for any hole again
(:class:`CityResend`).
"""
from __future__ import annotations

import logging
import queue
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from broker.protocol import (CITY_LINK_ONLINE, CITY_LIVE_PATTERNS, ROOT, CityAck, CityBatch,
                             CityIkm, CityResend, CounterState, Presence, PrinterStatus, ProtocolError,
                             QueueSummary, city_filter, city_topic, decode, encode, site_of)
from server.central.store import Store, utc_ms

log = logging.getLogger(__name__)
#: The centre's session outlives a week-long restart of the centre itself.
SESSION_EXPIRY_S = 7 * 24 * 3600
#: A hole is asked for again at most this often per site.
RESEND_EVERY_S = 5.0
#: A site whose link is up but whose newest events have not come for this long
#: is asked for them (a lost tail has no later batch to reveal it).
TAIL_QUIET_S = 10.0
#: Batches stored per transaction: big enough for catch-up, small enough that
#: acknowledgements keep flowing.
DRAIN_MAX = 400
LIVE_KINDS = {"summary": QueueSummary, "counter": CounterState, "presence": Presence,
              "kiosk": PrinterStatus}


class Centre:
    """The ingest loop of ``lalopa central serve``."""

    def __init__(self, store: Store, *, host: str = "127.0.0.1", port: int = 1883,
                 username: str | None = None, password: str | None = None,
                 client_id: str = "lalopa-central"):
        self.store = store
        self.inbox: queue.Queue = queue.Queue()
        self.connected = threading.Event()
        self.stats = {"batches": 0, "events": 0, "duplicates": 0, "rejected": 0, "acks": 0,
                      "resends": 0}
        self._last_request: dict[str, float] = {}
        self._last_tail_check = 0.0
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=MQTTProtocolVersion.MQTTv5)
        if username:
            self.client.username_pw_set(username, password)
        self.client.reconnect_delay_set(1, 5)
        self.client.max_inflight_messages_set(100)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.client.on_message = lambda c, u, msg: self.inbox.put((msg.topic, msg.payload, msg.retain))
        self.host, self.port = host, port

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        self.client.connect_async(self.host, self.port, keepalive=15, clean_start=False,
                                  properties=props)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("central broker refused the centre: %s", reason_code)
            return
        opts = SubscribeOptions(qos=1)
        filters = [city_filter("batch"), city_filter("ikm"), city_filter("link")]
        filters += [f"{ROOT}/+/{p}" for p in CITY_LIVE_PATTERNS]
        client.subscribe([(f, opts) for f in filters])
        self.connected.set()
        self.inbox.put(("", b"", False))  # wake the loop: re-acknowledge every site

    # -- the loop ---------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.step(0.2)

    def step(self, timeout: float = 0.2) -> int:
        """Handle what has arrived (waiting up to ``timeout`` for the first message)."""
        try:
            first = self.inbox.get(timeout=timeout)
        except queue.Empty:
            self._check_tails()
            return 0
        items = [first]
        while len(items) < DRAIN_MAX:
            try:
                items.append(self.inbox.get_nowait())
            except queue.Empty:
                break
        now = utc_ms()
        batches, ikm, live, links, reack = [], [], [], [], False
        for topic, payload, _retain in items:
            if not topic:
                reack = True
                continue
            site = site_of(topic)
            rest = topic.split("/", 3)[3] if site else ""
            try:
                if rest == "city/batch":
                    batch = decode(CityBatch, payload)
                    if batch.site != site:
                        raise ProtocolError(f"batch names site {batch.site!r} on {site!r}'s topic")
                    batches.append(batch)
                elif rest == "city/ikm":
                    report = decode(CityIkm, payload)
                    if report.site != site:
                        raise ProtocolError(f"survey figures name site {report.site!r} on {site!r}'s topic")
                    ikm.append(report)
                elif rest == "city/link":
                    links.append((site, payload == CITY_LINK_ONLINE))
                elif site:
                    kind = LIVE_KINDS.get(rest.split("/")[0])
                    if kind is None:
                        continue
                    live.append((site, rest, decode(kind, payload).to_dict() if payload else None))
            except ProtocolError as exc:
                self.stats["rejected"] += 1
                log.warning("dropped a message on %s: %s", topic, exc.reason)
        for site, online in links:
            self.store.set_link(site, online, now)
        if live:
            self.store.set_live(live, now)
        if ikm:
            self.store.set_ikm(ikm, now)
        if batches:
            progress = self.store.ingest(batches, now)
            self.stats["batches"] += len(batches)
            for p in progress.values():
                self.stats["events"] += p.inserted
                self.stats["duplicates"] += p.duplicates
                self._ack(p.site, p.stored_seq, now)
                if p.gap:
                    self._ask(p.site, *p.gap)
        if reack or any(online for _, online in links):
            for site, row in self.store.site_progress().items():
                self._ack(site, row["stored_seq"], now)
        self._check_tails()
        return len(items)

    def _ack(self, site: str, seq: int, now: int) -> None:
        self.client.publish(city_topic(site, "control/ack"), encode(CityAck(site=site, seq=seq, at_ms=now)),
                            qos=1, retain=True)
        self.stats["acks"] += 1

    def _ask(self, site: str, lo: int, hi: int) -> None:
        mono = time.monotonic()
        if mono - self._last_request.get(site, 0.0) < RESEND_EVERY_S:
            return
        self._last_request[site] = mono
        req = CityResend(id=f"gap-{site}-{lo}-{int(mono * 1000) % 10**9}", site=site,
                         from_seq=lo, to_seq=hi)
        self.client.publish(city_topic(site, "control/resend"), encode(req), qos=1)
        self.store.note_gap_request(site)
        self.stats["resends"] += 1
        log.info("asked %s for events %d..%d again", site, lo, hi)

    def _check_tails(self) -> None:
        mono = time.monotonic()
        if mono - self._last_tail_check < 1.0:
            return
        self._last_tail_check = mono
        now = utc_ms()
        for site, row in self.store.site_progress().items():
            quiet = now - (row["last_batch_ms"] or 0) >= TAIL_QUIET_S * 1000
            if row["link"] == "online" and row["head_seq"] > row["stored_seq"] and quiet:
                self._ask(site, row["stored_seq"] + 1, row["head_seq"])
