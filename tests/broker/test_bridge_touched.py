"""The bridge republishes only the retained state a change touched, and what devices
hold is always what the queue says (a real Mosquitto, a real QueueService)."""
import random

import pytest

from broker.bus import BusClient
from broker.protocol import BoardSnapshot, CounterState, decode
from server.bridge import Bridge
from server.devtools.mosquitto import wait_for

from test_bridge import clock, make_site, svc  # noqa: F401  (fixtures)


class StateLog:
    """Counts every retained counter state and board received, and keeps the latest."""

    def __init__(self, site_id, port):
        self.states, self.counts, self.boards = {}, {}, []
        self.bus = BusClient(site=site_id, role="display", device="touched-watch", port=port)
        t = self.bus.topics
        self.bus.subscribe(t.all_counter_states, self._state)
        self.bus.subscribe(t.board, lambda m: m.payload and self.boards.append(decode(BoardSnapshot, m.payload)))
        self.bus.start()
        assert self.bus.connected.wait(5)

    def _state(self, m):
        if m.payload:
            n = self.bus.topics.counter_of(m.topic)
            self.states[n] = decode(CounterState, m.payload)
            self.counts[n] = self.counts.get(n, 0) + 1

    def settle(self, seconds=0.5):
        wait_for(lambda: False, seconds, bus=self.bus)


@pytest.fixture
def bridge(svc, mosquitto):  # noqa: F811
    # A long refresh: only changes publish during the test.
    b = Bridge(svc, svc.site, {"host": "127.0.0.1", "port": mosquitto.port}, state_refresh_s=600).start()
    assert wait_for(lambda: b.stats["full_republish"] >= 1), "bridge never connected"
    yield b
    b.stop()


def _same(watch, svc):  # noqa: F811
    for c in svc.site.counters:
        want, got = svc.counter_state(c.number), watch.states.get(c.number)
        assert got is not None, f"no state for counter {c.number}"
        assert (got.status, got.waiting, got.pause_reason) == (want["status"], want["waiting"],
                                                               want["pause_reason"]), c.number
        assert (got.ticket.number if got.ticket else None) == (want["ticket"] or {}).get("number"), c.number
    board = svc.board()
    assert {s.prefix: s.waiting for s in watch.boards[-1].services} == board["waiting"]


def test_a_ticket_republishes_only_the_counters_serving_its_service(svc, bridge, mosquitto, site_id):  # noqa: F811
    # GIVEN a site where only counters 15 and 16 serve B, and a device holding every state
    watch = StateLog(site_id, mosquitto.port)
    watch.settle()
    before, boards = dict(watch.counts), len(watch.boards)
    serving_b = {c.number for c in svc.site.counters if "B" in c.services}
    # WHEN a B ticket is issued
    svc.issue("B", request_id="b-1", device="kiosk-1")
    assert wait_for(lambda: len(watch.boards) > boards, 5, bus=watch.bus)
    watch.settle()
    # THEN only those counters' states are published again (their waiting count changed),
    # the board once, and every state held equals the queue's
    changed = {n for n, k in watch.counts.items() if k > before.get(n, 0)}
    assert changed == serving_b
    assert len(watch.boards) == boards + 1
    _same(watch, svc)
    watch.bus.stop()


@pytest.mark.parametrize("seed", [1, 2])
def test_random_day_leaves_every_device_state_equal_to_the_queue(svc, bridge, mosquitto, site_id, seed):  # noqa: F811
    # GIVEN a device holding every retained state
    watch = StateLog(site_id, mosquitto.port)
    rng = random.Random(seed)
    site = svc.site
    for c in site.counters:
        svc.counter_action(c.number, "open", command_id=f"open-{c.number}", device="panel")
    # WHEN a random stretch of a day happens: issues, calls, recalls, no-shows,
    # transfers, pauses, cancels (refused actions change nothing and are skipped)
    for i in range(60):
        counter = rng.choice(site.counters).number
        action = rng.choice(["issue", "issue", "next", "next", "recall", "no_show", "transfer",
                             "pause", "resume", "finish", "cancel"])
        try:
            if action == "issue":
                svc.issue(rng.choice(["A", "B", "C"]), request_id=f"r{i}", device="kiosk-1")
            else:
                svc.counter_action(counter, action, command_id=f"c{i}", device="panel",
                                   service=rng.choice(["A", "B", "C"]) if action == "transfer" else None,
                                   reason="istirahat" if action == "pause" else None)
        except Exception as exc:  # an action the state does not allow now
            assert getattr(exc, "code", None), exc
    assert wait_for(lambda: bridge.stats["counter_states_published"] > 0, 5)
    watch.settle(1.0)
    # THEN what every counter's device and the board hold is what the queue says now
    _same(watch, svc)
    assert bridge.stats["errors"] == 0 and bridge.stats["bad_outbound"] == 0
    watch.bus.stop()
