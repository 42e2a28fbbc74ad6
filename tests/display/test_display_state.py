"""The board's model on its own: seq rules, snapshots, server time."""
import datetime as dt
from dataclasses import replace

from display.state import BoardState, ServerClock
from display_testkit import SERVER_MS, call, snapshot


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_clock_is_server_time_plus_monotonic_elapsed():
    """GIVEN a snapshot stamped 08:41:05 WIB WHEN 61 s of monotonic time pass
    THEN the board says 08:42:06 in the site's zone, whatever the local wall clock says,
    and the next redraw of a minute clock is due in 54 s."""
    ticks = Ticks()
    clock = ServerClock(ticks)
    assert clock.now() is None
    clock.sync(SERVER_MS, "Asia/Jakarta")
    ticks.t += 61
    now = clock.now()
    assert (now.hour, now.minute, now.second) == (8, 42, 6)
    assert now.utcoffset() == dt.timedelta(hours=7)
    assert clock.seconds_to_next(60) == 54


def test_stale_live_snapshot_is_ignored_but_retained_one_is_taken():
    """GIVEN a board that has shown call 12
    WHEN a live snapshot with seq 11 arrives THEN it is ignored (a reordering);
    WHEN the same arrives retained (after a reconnect) THEN it is taken: the broker's truth."""
    state = BoardState(monotonic=Ticks())
    state.apply_snapshot(snapshot("s", 10), retained=True)
    state.apply_call(call(11, "A-011", 1))
    state.apply_call(call(12, "A-012", 2))
    assert state.apply_snapshot(snapshot("s", 11, serving={1: "A-011"})) is False
    assert state.snapshot.seq == 10
    assert state.apply_snapshot(snapshot("s", 11, serving={1: "A-011"}), retained=True) is True
    assert state.last_call_seq == 11


def test_new_service_day_starts_seq_afresh():
    """GIVEN a board at seq 80 yesterday WHEN today's snapshot has seq 0
    THEN it is taken and today's call 1 is new, not a duplicate."""
    state = BoardState(monotonic=Ticks())
    state.apply_snapshot(snapshot("s", 80, serving={1: "A-080"}), retained=True)
    today = replace(snapshot("s", 0), service_day="2026-11-24")
    assert state.apply_snapshot(today) is True
    assert state.current is None
    assert state.apply_call(call(1, "A-001", 3)) == "new"


def test_call_flashes_for_a_bounded_time_and_snapshot_shows_still():
    """GIVEN a new call WHEN 5.9 s pass THEN it still flashes; after 6 s it stands still.
    A call known only from a snapshot (a reboot) never flashes."""
    ticks = Ticks()
    state = BoardState(monotonic=ticks)
    state.apply_snapshot(snapshot("s", 5, serving={2: "A-005"}), retained=True)
    assert state.current.ticket == "A-005" and not state.flashing(6)
    state.apply_call(call(6, "A-006", 3, priority="lansia"))
    ticks.t += 5.9
    assert state.flashing(6)
    ticks.t += 0.2
    assert not state.flashing(6)
    assert state.counters[3].ticket.priority == "lansia"


def test_calls_learnt_from_a_snapshot_are_announced_once_while_fresh():
    """GIVEN a board at seq 10 that then hears call 13 (11 and 12 lost on the way)
    WHEN the resync snapshot lists 11, 12 and 13
    THEN 11 and 12 are handed over for announcing once, in seq order, 13 stays on the big panel,
    and their events arriving afterwards are duplicates."""
    state = BoardState(monotonic=Ticks())
    state.apply_snapshot(snapshot("s", 10, serving={1: "A-010"}), retained=True)
    assert state.take_late() == []
    assert state.apply_call(call(13, "A-013", 3)) == "gap"
    state.apply_snapshot(snapshot("s", 13, serving={1: "A-011", 2: "A-012", 3: "A-013"}), retained=True)
    assert [c.seq for c in state.take_late()] == [11, 12]
    assert state.current.seq == 13
    assert state.apply_call(call(12, "A-012", 2)) == "duplicate"
    state.apply_snapshot(snapshot("s", 13, serving={1: "A-011", 2: "A-012", 3: "A-013"}))
    assert state.take_late() == []


def test_a_late_call_event_is_announced_but_the_newest_stays_shown():
    """GIVEN calls 11 and 13 applied WHEN the event of 12 arrives after them
    THEN it is 'late' (announced), listed among the recent calls, and 13 stays shown large."""
    state = BoardState(monotonic=Ticks())
    state.apply_snapshot(snapshot("s", 10), retained=True)
    state.apply_call(call(11, "A-011", 1))
    state.apply_call(call(13, "A-013", 3))
    assert state.apply_call(call(12, "A-012", 2)) == "late"
    assert state.current.seq == 13
    assert [c.seq for c in state.recent] == [13, 12, 11]
    assert state.apply_call(call(12, "A-012", 2)) == "duplicate"


def test_a_missed_call_older_than_the_fresh_window_is_never_announced():
    """GIVEN a board at seq 10 WHEN a reconnect's snapshot lists call 11 made more than
    CALL_FRESH_S before the snapshot's server time THEN it is shown but not announced, and its
    event arriving afterwards stays silent too. Calls from before the board's first snapshot
    are never announced."""
    from broker.protocol import CALL_FRESH_S
    state = BoardState(monotonic=Ticks())
    state.apply_snapshot(snapshot("s", 10, serving={1: "A-010"}), retained=True)
    later = replace(snapshot("s", 11, serving={1: "A-010", 2: "A-011"}),
                    server_time_ms=SERVER_MS + (CALL_FRESH_S + 5) * 1000)
    state.apply_snapshot(later, retained=True)
    assert state.take_late() == []
    assert state.counters[2].ticket.number == "A-011"
    assert state.apply_call(call(11, "A-011", 2)) == "duplicate"
    fresh = BoardState(monotonic=Ticks())
    fresh.apply_snapshot(snapshot("s", 11, serving={1: "A-010", 2: "A-011"}), retained=True)
    assert fresh.take_late() == []
