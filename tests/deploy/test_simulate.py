"""The simulated day: a morning peak, skewed service times, deterministic with a seed."""
from __future__ import annotations

import random
import statistics

import pytest

import threading

from server.devtools.simulate import Api, DayModel, Simulation, main

pytestmark = pytest.mark.timeout(20)


def test_arrivals_peak_in_the_morning():
    """GIVEN the default day WHEN arrivals are sampled THEN hour 1 gets clearly more than hour 6."""
    model = DayModel(peak_per_hour=120)
    times = model.arrivals(random.Random(3), limit=10_000)
    first = sum(1 for t in times if t < 3600)
    sixth = sum(1 for t in times if 5 * 3600 <= t < 6 * 3600)
    assert first > 2 * sixth > 0
    assert times == sorted(times) and all(0 <= t < model.day_s for t in times)


def test_arrivals_are_bounded_and_deterministic():
    """GIVEN a seed and a cap WHEN sampled twice THEN the same times, never more than the cap."""
    model = DayModel(peak_per_hour=500)
    a = model.arrivals(random.Random(9), limit=50)
    b = model.arrivals(random.Random(9), limit=50)
    assert a == b and len(a) == 50
    assert model.arrivals(random.Random(10), limit=50) != a


def test_service_times_are_right_skewed():
    """GIVEN the log-normal model WHEN sampled THEN mean > median and nothing under 30 s."""
    model = DayModel()
    rng = random.Random(5)
    samples = [model.service_time(rng) for _ in range(4000)]
    assert min(samples) >= 30
    assert statistics.mean(samples) > statistics.median(samples)
    assert 300 < statistics.median(samples) < 420


def test_plan_mixes_services_and_priorities():
    """GIVEN a site with three services WHEN a day is planned THEN residents use every service,
    some are priority, and every counter gets a first 'next'."""
    issued: list[tuple[str, str | None]] = []
    sim = Simulation(api=None, model=DayModel(peak_per_hour=400), seed=2, speed=1,
                     duration_s=1, max_tickets=300, log=lambda _: None)
    sim.resident = lambda s, p: issued.append((s, p))
    sim.counter_next = lambda n: issued.append(("counter", n))
    site = {"services": [{"prefix": "A"}, {"prefix": "B"}, {"prefix": "C"}],
            "counters": [{"number": n} for n in range(1, 5)]}
    sim.plan(site)
    while sim._events:
        sim._events.pop(0)[2]()
    residents = [x for x in issued if x[0] != "counter"]
    assert len(residents) == 300
    assert {s for s, _ in residents} == {"A", "B", "C"}
    share = sum(1 for _, p in residents if p) / len(residents)
    assert 0.04 < share < 0.2
    assert sorted(n for k, n in issued if k == "counter") == [1, 2, 3, 4]


def test_cli_requires_a_token(capsys):
    """GIVEN neither --token nor --token-file WHEN run THEN it refuses with exit code 2."""
    with pytest.raises(SystemExit) as exc:
        main(["--server", "http://127.0.0.1:1"])
    assert exc.value.code == 2 and "--token-file" in capsys.readouterr().err


@pytest.fixture
def live_server(tmp_path):
    """The real Flask app behind waitress on a loopback port, with kiosk and panel tokens."""
    from waitress.server import create_server

    from server.app import create_app
    from server.devtools.demo import SITE_EXAMPLE, open_all_week
    site = tmp_path / "site.toml"
    site.write_text(open_all_week(SITE_EXAMPLE.read_text()))
    # A day compressed 300x through one kiosk: scale the per-kiosk limit like the demo does.
    app = create_app({"LALOPA_SITE": str(site), "LALOPA_DB": str(tmp_path / "q.db"), "TESTING": True,
                      "LALOPA_KIOSK_RATE_PER_MIN": 30 * 300})
    svc = app.extensions["lalopa.queue"]
    tokens = (svc.create_device_token("kiosk-1", "kiosk"), svc.create_device_token("panel-1", "panel"))
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}", tokens, svc
    server.close()
    thread.join(5)
    svc.close()


def test_day_against_the_real_server(live_server):
    """GIVEN a running server WHEN a compressed day is played for 4 s
    THEN residents got numbers through the kiosk API and counters called and finished them."""
    url, (kiosk, panel), svc = live_server
    sim = Simulation(Api(url, kiosk, panel), DayModel(peak_per_hour=400), seed=4, speed=300,
                     duration_s=4, max_tickets=60, counters=3, log=lambda _: None)
    tally = sim.run()
    assert tally.issued > 5 and tally.called > 0 and tally.finished > 0, tally
    assert set(tally.errors) <= {"invalid_transition", "no_current_ticket"}, tally.errors
    summary = svc.summary()
    issued = sum(s["issued"] for s in summary["services"].values())
    assert issued == tally.issued
