"""One paho-mqtt 2 wrapper for every LALOPA component.

Habits it enforces: VERSION2 callbacks, MQTT 5,
``connect_async`` + ``loop_start`` so a broker that is not up yet never raises,
reconnect backoff capped at a few seconds, subscriptions renewed in
``on_connect``, a retained ``offline`` last will with ``online`` published on
connect, and callbacks that only hand work to the owner thread.

Paho's network thread puts every event in :attr:`BusClient.inbox`; the owner
(the pygame loop, the bridge worker, the button loop) calls
:meth:`BusClient.dispatch` to run handlers in its own thread. An optional
``wake`` callable is called from paho's thread after each enqueue, e.g. to post
a pygame event.

Example::

    bus = BusClient(site="dinkes-claim", role="display", device="board-1",
                    host="127.0.0.1", port=1883)
    bus.subscribe(bus.topics.board, on_board)
    bus.on_connected(lambda session_present: ...)
    bus.start()
    while running:
        bus.dispatch(timeout=0.1)
    bus.stop()
"""
from __future__ import annotations

import hashlib
import logging
import queue
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from .protocol import CounterCommand, Message, Presence, Topics, encode

log = logging.getLogger(__name__)

# A PUBACK normally follows a publish within milliseconds, even on a busy Pi;
# one that has not come after this long means the session is wedged (see
# BusClient.check_stall). 0 turns the watchdog off.
STALL_S = 2.5


@dataclass(frozen=True)
class Incoming:
    """A message received on a subscription, handed to the owner thread."""

    topic: str
    payload: bytes
    retain: bool


Handler = Callable[[Incoming], None]


class BusClient:
    """A device's connection to the broker; safe to publish from any thread."""

    def __init__(self, *, site: str, role: str, device: str,
                 host: str = "127.0.0.1", port: int = 1883,
                 username: str | None = None, password: str | None = None,
                 tls_ca: str | None = None, keepalive: int = 10,
                 session_expiry_s: int = 0, max_reconnect_s: int = 4,
                 max_queued: int = 100, wake: Callable[[], None] | None = None,
                 stall_s: float = STALL_S, probe_s: float = 0.0,
                 admit: Callable[[str], bool] | None = None):
        self.topics = Topics(site)
        self.role, self.device = role, device
        self.host, self.port = host, port
        self.wake = wake
        self.inbox: queue.Queue = queue.Queue()
        self.connected = threading.Event()
        self._subs: dict[str, tuple[SubscribeOptions, Handler]] = {}
        self._paused: set[str] = set()  # registered filters not subscribed right now
        # ``admit(topic)`` runs in paho's thread before a message is queued;
        # False drops it there (the bridge's flood guard), so a flood never
        # grows the inbox.
        self.admit = admit
        # Guards _subs (read in paho's thread on connect) and _acks; never held
        # around a paho call: paho holds its own locks while it runs our callbacks,
        # so a lock held around publish() that a callback also takes would deadlock.
        self._lock = threading.Lock()
        self._acks: dict[int, object] = {}
        self._ack_event = threading.Condition(self._lock)
        self._on_connected: list[Callable[[bool], None]] = []
        self._on_disconnected: list[Callable[[], None]] = []
        self._session_expiry_s = session_expiry_s
        self._keepalive = keepalive
        self._started = False
        # The watchdog: when each QoS 1 publish still waiting for its PUBACK
        # was sent (re-stamped on every connect, when paho resends them).
        self.stall_s = stall_s
        # A client that must notice a wedged session even when it has nothing
        # to say (the server: a box's press may be stuck behind a flood in the
        # broker's queue for us) republishes its retained presence after
        # ``probe_s`` seconds without a publish, so there is always a PUBACK
        # to wait for. 0: no probe.
        self.probe_s = probe_s
        self._unacked: dict[int, float] = {}
        self._last_ack = self._last_publish = time.monotonic()
        self._last_connect: float | None = None
        self.recoveries = 0
        self._recovering_since: float | None = None  # cleared by the next connect
        self.client = self._make_client(username, password, tls_ca, max_reconnect_s, max_queued)

    # -- set-up -------------------------------------------------------------

    @property
    def client_id(self) -> str:
        """Unique per device: two clients with one id kick each other off.

        Long ids are shortened with a hash, never plainly cut, so two long
        device names cannot end up sharing one id."""
        full = f"lalopa-{self.topics.site}-{self.role}-{self.device}"
        if len(full) <= 64:
            return full
        return f"{full[:55]}-{hashlib.sha1(full.encode()).hexdigest()[:8]}"

    @property
    def presence_topic(self) -> str:
        return self.topics.presence(self.role, self.device)

    def _make_client(self, username, password, tls_ca, max_reconnect_s, max_queued):
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id,
                             protocol=MQTTProtocolVersion.MQTTv5)
        if username:
            client.username_pw_set(username, password)
        if tls_ca:
            client.tls_set(ca_certs=tls_ca, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.reconnect_delay_set(min_delay=1, max_delay=max_reconnect_s)
        client.max_queued_messages_set(max_queued)
        offline = encode(Presence(role=self.role, device=self.device, status="offline"))
        client.will_set(self.presence_topic, offline, qos=1, retain=True)
        client.on_connect = self._handle_connect
        client.on_disconnect = self._handle_disconnect
        client.on_message = self._handle_message
        client.on_publish = self._handle_publish
        return client

    def subscribe(self, topic_filter: str, handler: Handler, qos: int = 1,
                  retain_as_published: bool = False) -> None:
        """Register a handler; it is (re)subscribed on every connect.

        ``retain_as_published=True`` (MQTT 5) keeps the publisher's retain
        flag on live messages: without it the broker clears the flag, and a
        retained message cannot be told from a live one (the server refuses
        retained commands this way)."""
        options = SubscribeOptions(qos=qos, retainAsPublished=retain_as_published)
        with self._lock:
            self._subs[topic_filter] = (options, handler)
            self._paused.discard(topic_filter)
        if self.connected.is_set():
            self.client.subscribe(topic_filter, options=options)

    def unsubscribe(self, topic_filter: str) -> None:
        """Forget a filter and its handler."""
        with self._lock:
            known = self._subs.pop(topic_filter, None)
            self._paused.discard(topic_filter)
        if known and self.connected.is_set():
            self.client.unsubscribe(topic_filter)

    def pause(self, topic_filter: str) -> None:
        """Stop the broker sending this filter's messages (keeps the handler);
        safe from paho's thread. The broker then drops a flood at its side."""
        with self._lock:
            if topic_filter not in self._subs or topic_filter in self._paused:
                return
            self._paused.add(topic_filter)
        if self.connected.is_set():
            self.client.unsubscribe(topic_filter)

    def resume(self, topic_filter: str) -> None:
        """Subscribe a paused filter again (its retained messages come again)."""
        with self._lock:
            if topic_filter not in self._paused:
                return
            self._paused.discard(topic_filter)
            options = self._subs[topic_filter][0]
        if self.connected.is_set():
            self.client.subscribe(topic_filter, options=options)

    def resubscribe(self, topic_filter: str) -> None:
        """Subscribe again to a registered filter: the broker resends its
        retained messages at once (a display resyncs its board this way)."""
        with self._lock:
            options, _ = self._subs[topic_filter]
        if self.connected.is_set():
            self.client.subscribe(topic_filter, options=options)

    def on_connected(self, fn: Callable[[bool], None]) -> None:
        """``fn(session_present)`` runs in the owner thread after each connect:
        the place to republish retained state."""
        self._on_connected.append(fn)

    def on_disconnected(self, fn: Callable[[], None]) -> None:
        self._on_disconnected.append(fn)

    def start(self) -> None:
        """Connect in the background; paho keeps reconnecting on its own."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self._session_expiry_s
        self.client.connect_async(self.host, self.port, keepalive=self._keepalive,
                                  clean_start=self._session_expiry_s == 0, properties=props)
        self.client.loop_start()
        self._started = True

    def stop(self, timeout: float = 2.0) -> None:
        """Say ``offline`` ourselves (a clean disconnect sends no will), then stop."""
        if not self._started:
            return
        self._started = False
        if self.connected.is_set():
            info = self.publish_message(self.presence_topic,
                                        Presence(role=self.role, device=self.device, status="offline"),
                                        retain=True)
            try:
                info and info.wait_for_publish(timeout)
            except (RuntimeError, ValueError):
                pass
        self.client.disconnect()
        self.client.loop_stop()
        self.connected.clear()

    # -- publishing ---------------------------------------------------------

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False,
                expiry_s: int | None = None, when_offline: str = "queue"):
        """Publish raw bytes. ``when_offline='drop'`` refuses to queue while the
        broker is unreachable and returns None (a button press must not be sent
        minutes later); otherwise paho queues QoS 1 in memory (capped)."""
        if when_offline == "drop" and not self.connected.is_set():
            return None
        props = None
        if expiry_s:
            props = Properties(PacketTypes.PUBLISH)
            props.MessageExpiryInterval = int(expiry_s)
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=props)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            log.warning("publish to %s failed: %s", topic, mqtt.error_string(info.rc))
            return None
        self._last_publish = time.monotonic()
        if qos > 0:
            with self._lock:
                # The PUBACK may already be here (paho's thread is fast).
                if info.mid not in self._acks:
                    self._unacked[info.mid] = time.monotonic()
        return info

    def publish_message(self, topic: str, msg: Message, **kw):
        return self.publish(topic, encode(msg), **kw)

    def wait_for_ack(self, info, timeout: float = 5.0):
        """The broker's PUBACK reason code for a QoS 1 publish, or None on timeout.

        With MQTT 5 a publish refused by the ACL is acknowledged with reason
        0x87 "Not authorized" (``code.is_failure``); ``is_published()`` alone
        would report success (as MQTT 3.1.1 always does: it acknowledges a refused
        publish like any other). Not for paho's own thread.
        """
        if info is None:
            return None
        deadline = time.monotonic() + timeout
        with self._ack_event:
            while info.mid not in self._acks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._ack_event.wait(left)
            return self._acks.pop(info.mid)

    def publish_command(self, cmd: CounterCommand, max_age_s: float = 10):
        """Send a counter command the only safe way: QoS 1, MQTT 5 message
        expiry = the site's max command age, and never queued while offline (a
        press must be applied now or never). Returns None when not sent."""
        return self.publish(self.topics.command(cmd.counter), encode(cmd), qos=1,
                            expiry_s=max(1, int(max_age_s)), when_offline="drop")

    def clear_retained(self, topic: str):
        return self.publish(topic, b"", retain=True)

    # -- the watchdog --------------------------------------------------------

    def stalled_for(self) -> float:
        """Seconds the oldest QoS 1 publish has waited for its PUBACK while
        connected (0 when none waits)."""
        with self._lock:
            oldest = min(self._unacked.values(), default=None)
        if oldest is None or not self.connected.is_set():
            return 0.0
        return max(0.0, time.monotonic() - oldest)

    def check_stall(self) -> bool:
        """Recover when publishes stop being acknowledged; True if it acted.

        Paho resends an unacknowledged QoS 1 publish only after a reconnect,
        and keep-alive pings pass while PUBACKs do not come (a broker that
        has stopped acknowledging one session, e.g. behind a backlog of
        flood messages it is still pushing to us). So the client cuts its own
        connection: paho reconnects after its 1 s minimum delay, resumes the
        session (if it keeps one) and resends what was in flight, and the
        backlog dies with the old socket.
        Called from :meth:`dispatch`, i.e. by every owner loop."""
        self._probe_if_idle()
        if self.stall_s <= 0 or self.stalled_for() < self.stall_s:
            return False
        since = self._recovering_since
        if since is not None and time.monotonic() - since < 3 * self.stall_s:
            return False  # the reconnect is under way
        self._recovering_since = time.monotonic()
        self.recoveries += 1
        log.warning("broker %s:%s has not acknowledged a publish for %.1f s; reconnecting "
                    "(recovery %d)", self.host, self.port, self.stalled_for(), self.recoveries)
        sock = self.client.socket()
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)  # paho's loop sees the end and reconnects
        except OSError:
            pass
        return True

    def _probe_if_idle(self) -> None:
        if self.probe_s <= 0 or not self.connected.is_set():
            return
        with self._lock:
            waiting = bool(self._unacked)
        if not waiting and time.monotonic() - max(self._last_publish, self._last_ack) >= self.probe_s:
            self.publish_message(self.presence_topic,
                                 Presence(role=self.role, device=self.device, status="online"), retain=True)

    def health(self) -> dict:
        """How the bus is moving, for /healthz, the systemd watchdog and the dashboard.

        ``state`` is ``ok``, ``stalled`` (connected, but a publish has waited
        longer than ``stall_s`` for its acknowledgement) or ``disconnected``."""
        connected = self.connected.is_set()
        waiting = self.stalled_for()
        with self._lock:
            unacked = len(self._unacked)
        state = "disconnected" if not connected else "stalled" if waiting >= self.stall_s > 0 else "ok"
        return {"state": state, "connected": connected, "unacked": unacked,
                "oldest_unacked_s": round(waiting, 2),
                "last_ack_s": round(time.monotonic() - self._last_ack, 2),
                "last_connect_s": (None if self._last_connect is None
                                   else round(time.monotonic() - self._last_connect, 2)),
                "recoveries": self.recoveries, "paused": sorted(self._paused)}

    # -- the owner thread ---------------------------------------------------

    def dispatch(self, timeout: float | None = 0.0, limit: int = 1000) -> int:
        """Run pending handlers in the calling thread; returns how many ran.

        Waits up to ``timeout`` seconds for the first event (None waits forever).
        """
        self.check_stall()
        done = 0
        block = timeout is None or timeout > 0
        while done < limit:
            try:
                kind, item = self.inbox.get(block=block and done == 0, timeout=timeout if done == 0 else None)
            except queue.Empty:
                break
            done += 1
            try:
                self._run(kind, item)
            except Exception:  # a bad handler never kills the owner loop
                log.exception("bus handler for %s failed", kind)
        return done

    def _run(self, kind: str, item) -> None:
        if kind == "message":
            with self._lock:
                subs = list(self._subs.items())
            for topic_filter, (_, handler) in subs:
                if mqtt.topic_matches_sub(topic_filter, item.topic):
                    handler(item)
        elif kind == "connected":
            for fn in self._on_connected:
                fn(item)
        elif kind == "disconnected":
            for fn in self._on_disconnected:
                fn()

    def _enqueue(self, kind: str, item) -> None:
        self.inbox.put((kind, item))
        if self.wake is not None:
            try:
                self.wake()
            except Exception:  # pragma: no cover - a wake hook must not break paho
                log.exception("wake hook failed")

    # -- paho callbacks (paho's thread: enqueue only) -------------------------

    def _handle_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.warning("broker %s:%s refused connection: %s", self.host, self.port, reason_code)
            return
        _no_delay(client.socket())
        with self._lock:
            subs = [(f, opts) for f, (opts, _) in self._subs.items() if f not in self._paused]
            now = time.monotonic()
            for mid in self._unacked:  # paho resends them now
                self._unacked[mid] = now
            self._last_connect = now
            self._recovering_since = None
        for topic_filter, options in subs:
            client.subscribe(topic_filter, options=options)
        client.publish(self.presence_topic,
                       encode(Presence(role=self.role, device=self.device, status="online")),
                       qos=1, retain=True)
        self.connected.set()
        log.info("connected to broker %s:%s as %s", self.host, self.port, self.client_id)
        self._enqueue("connected", bool(flags.session_present))

    def _handle_disconnect(self, client, userdata, flags, reason_code, properties):
        was = self.connected.is_set()
        self.connected.clear()
        if was and not self._started:
            log.info("disconnected from broker %s:%s", self.host, self.port)
        elif was:
            log.warning("lost broker %s:%s (%s); reconnecting", self.host, self.port, reason_code)
            self._enqueue("disconnected", None)

    def _handle_publish(self, client, userdata, mid, reason_code, properties):
        if getattr(reason_code, "is_failure", False):
            log.warning("broker refused publish mid=%s: %s", mid, reason_code)
        with self._ack_event:
            self._unacked.pop(mid, None)
            self._last_ack = time.monotonic()
            self._acks[mid] = reason_code
            while len(self._acks) > 256:  # keep only recent acks nobody asked for
                self._acks.pop(next(iter(self._acks)))
            self._ack_event.notify_all()

    def _handle_message(self, client, userdata, msg):
        if self.admit is not None and not self.admit(msg.topic):
            return
        self._enqueue("message", Incoming(msg.topic, bytes(msg.payload), bool(msg.retain)))


def _no_delay(sock) -> None:
    """Turn off Nagle: paho leaves it on, and a small publish after a burst (a call
    after retained state) then waits for the peer's delayed ACK, ~40 ms per hop
    (measured by ``lalopa bench``)."""
    try:
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):  # a TLS wrapper or odd socket: latency only
        pass


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (for tests, demo and bench)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
