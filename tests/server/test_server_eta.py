"""The wait estimate (server/eta.py): a range from a model of the real desk."""
from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from server import errors, eta, eta_backtest
from server.clock import FakeClock
from server.config import parse_site
from server.errors import ConfigError

WIB = ZoneInfo("Asia/Jakarta")


def _estimate(svc, ticket) -> eta.Estimate:
    conn = svc.db.read()
    row = conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket["id"],)).fetchone()
    return eta.for_ticket(conn, svc.site, row, svc.clock.epoch_ms())


def test_a_shared_counter_serves_its_own_service_first(make_service, driver):
    """GIVEN counter 1 (A) and counter 15 (B first, then A) open
    WHEN B has a queue THEN a new A resident waits for counter 1 alone, longer than when B is empty."""
    svc = make_service()
    d = driver(svc)
    d.act(1, "open"), d.act(15, "open")
    for _ in range(3):
        d.issue("A")
    empty_b = svc.summary()["services"]["A"]
    for _ in range(6):
        d.issue("B")
    busy_b = svc.summary()["services"]["A"]
    assert empty_b["served_by"] == busy_b["served_by"] == 2
    # B empty: both counters take A residents; B queued: counter 15 is busy with B
    assert busy_b["est_wait_s"] > 1.5 * empty_b["est_wait_s"]
    assert busy_b["est_low_s"] <= busy_b["est_wait_s"] <= busy_b["est_high_s"]


def test_priority_interleaving_puts_a_priority_resident_behind_ratio_normal_calls(make_service, driver):
    """GIVEN one counter, six normal residents waiting and a priority call just made
    WHEN a priority resident takes a number THEN under interleave (ratio 3) three normal calls
    come first, under strict none; a normal resident is behind all of them."""
    told = {}
    for policy in ("interleave", "strict"):
        svc = make_service(db_name=f"{policy}.db", priority_policy=policy, priority_ratio=3)
        d = driver(svc)
        d.act(1, "open")
        d.issue("A", priority="lansia")
        for _ in range(6):
            d.issue("A")
        assert d.act(1, "next")["ticket"]["priority"] == "lansia"   # the day starts priority due
        prio = _estimate(svc, d.issue("A", priority="hamil"))
        normal = _estimate(svc, d.issue("A"))
        told[policy] = (prio, normal)
    assert told["interleave"][0].calls_before == 3
    assert told["strict"][0].calls_before == 0
    assert told["interleave"][0].mid_s > told["strict"][0].mid_s
    assert told["interleave"][1].calls_before >= 7 and told["strict"][1].calls_before >= 7


def test_a_service_no_open_counter_serves_has_no_estimate(svc, driver):
    """GIVEN only counter 1 (A, C) open WHEN residents wait for B THEN B's estimate is empty and
    served_by is 0 (the kiosk says "belum ada loket yang melayani"), never "0 minutes"."""
    d = driver(svc)
    d.act(1, "open")
    t = d.issue("B")
    assert t["est_wait_s"] is None and t["est_low_s"] is None and t["est_high_s"] is None
    b = svc.summary()["services"]["B"]
    assert b["served_by"] == 0 and b["est_wait_s"] is None and b["waiting"] == 1
    d.act(15, "open")   # counter 15 serves B first
    b = svc.summary()["services"]["B"]
    assert b["served_by"] == 1 and b["est_high_s"] > 0


def test_a_paused_counter_still_counts_but_later(svc, driver):
    """GIVEN counter 15 paused just now WHEN a B resident waits THEN B is served (later)."""
    d = driver(svc)
    d.act(15, "open"), d.act(15, "pause", reason="istirahat")
    b = svc.summary()["services"]["B"]
    assert b["served_by"] == 1 and b["est_wait_s"] >= eta.PAUSE_GUESS_S - 60


@pytest.mark.parametrize("mode", ["warn", "stop"])
def test_the_cutoff_near_closing(make_service, driver, mode):
    """GIVEN A's cut-off set and 14:40 on a Monday (closing 15:00) with 30 waiting and one counter
    WHEN a resident asks THEN the summary says the cut-off; 'stop' refuses the number and
    changes nothing, 'warn' issues it."""
    clock = FakeClock(datetime(2026, 11, 23, 14, 40, tzinfo=WIB))
    svc = make_service(clock_=clock)
    a = dataclasses.replace(svc.site.service("A"), cutoff=mode)
    svc.site = dataclasses.replace(svc.site, services=(a, *svc.site.services[1:]))
    d = driver(svc)
    d.act(1, "open")
    assert svc.summary()["services"]["A"]["cutoff"] == "ok"
    for _ in range(30):
        d.issue("C")   # counter 1 serves A first: C residents do not block a new A
    for _ in range(2):
        d.issue("A")
    assert svc.summary()["services"]["A"]["cutoff"] == "ok"   # about 11 minutes to wait
    for _ in range(20):   # the queue grows until a new number would be called after 15:00
        if svc.summary()["services"]["A"]["cutoff"] != "ok":
            break
        d.issue("A")
    assert svc.summary()["services"]["A"]["cutoff"] == mode
    before = svc.db.read().execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
    if mode == "stop":
        with pytest.raises(errors.PastClosing) as exc:
            d.issue("A")
        assert "jam tutup" in exc.value.message_id
        assert svc.db.read().execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == before
    else:
        assert d.issue("A")["status"] == "waiting"


def test_the_cutoff_setting_is_validated(site):
    data = {"site_id": "x", "facility": "F", "timezone": "Asia/Jakarta",
            "services": [{"prefix": "A", "name_id": "Layanan", "name_en": "Service", "cutoff": "maybe"}],
            "counters": [{"number": 1, "services": ["A"]}]}
    with pytest.raises(ConfigError) as exc:
        parse_site(data, "site.toml")
    assert "services[0].cutoff" in str(exc.value)
    data["services"][0]["cutoff"] = "stop"
    assert parse_site(data).service("A").cutoff == "stop"


def test_backtest_day_is_calibrated_and_beats_the_old_estimate(tmp_path, site):
    """GIVEN one fixed-seed simulated day (morning peak, lunch, transfers, no-shows) through the
    real QueueService WHEN each resident's printed range is compared with the wait that followed
    THEN at most ~10 % wait past the upper end and the midpoint's error is ≥ 30 % below the old
    estimator's; the same day replayed from its event log gives the same waits."""
    day = eta_backtest.simulated_day(site, 1, tmp_path)
    f = day.figures()
    assert f["residents"] > 500
    assert f["over_upper_pct"] <= 13.0
    assert f["mae_cut_pct"] >= 30.0
    service_day = eta_backtest.sqlite3.connect(tmp_path / "sim-1.db").execute(
        "SELECT MAX(service_day) FROM events").fetchone()[0]
    replayed = eta_backtest.logged_day(site, str(tmp_path / "sim-1.db"), service_day, tmp_path)
    assert [r.wait_s for r in replayed.residents] == [r.wait_s for r in day.residents]
    same = sum(1 for a, b in zip(day.residents, replayed.residents) if a.high_s == b.high_s)
    assert same >= 0.8 * len(day.residents)


def test_backtest_refuses_a_file_that_is_not_a_database(tmp_path, capsys):
    bad = tmp_path / "not.db"
    bad.write_text("not a database")
    with pytest.raises(SystemExit) as exc:
        eta_backtest.main(["--db", str(bad), "--day", "2026-11-23", "--sim-days", "0"])
    assert "bukan basis data LALOPA" in str(exc.value) and "not a readable LALOPA database" in str(exc.value)
    with pytest.raises(SystemExit):
        eta_backtest.main(["--db", str(bad), "--day", "23-11-2026"])
    assert "YYYY-MM-DD" in capsys.readouterr().err
