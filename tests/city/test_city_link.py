"""Issue 18, "Done when": a city of real sites, one link cut, nothing lost or counted twice.

A central Mosquitto (TLS for the sites, with a CA made for this test),
PostgreSQL, ``lalopa central serve`` and three real sites (broker, server,
uplink each, provisioned with ``lalopa central add-site`` / ``join``). The
sites work through their HTTP API; one site's link is cut for a while and
restored.
"""
import base64
import itertools
import json
import subprocess
import sys
import time
import urllib.request
from datetime import date

import psycopg
import pytest

from broker.bus import free_port
from server.config import load_site
from server.db import connect as sqlite_connect
from server.devtools.citylab import REPO, CentralBroker, CitySite, make_ca
from server.stats import day_stats

SITES = ("pkm-satu", "pkm-dua", "pkm-tiga")
_ids = itertools.count(1)


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def play(site: CitySite, n: int) -> list[tuple]:
    """Issue ``n`` tickets in two services and work through them at two counters.

    Returns the requests the site refused (none expected)."""
    api, refused = site.api(), []

    def check(what, result):
        status, body = result
        idle = status == 409 and body.get("error", {}).get("code") == "nothing_waiting"
        if status not in (200, 201) and not idle:  # a counter with nobody waiting is no failure
            refused.append((what, status, body))
    for i in range(n):
        check("issue", api.issue("A" if i % 3 else "B", "lansia" if i == 2 else None, f"t{next(_ids)}"))
    for i in range(n - 2):
        counter = (1, 15)[i % 2]  # loket 1 serves A, loket 15 serves B and A
        check("next", api.act(counter, "next", f"c{next(_ids)}"))
        if i % 5 == 4:
            check("no_show", api.act(counter, "no_show", f"c{next(_ids)}"))
        elif i % 7 == 6:
            check("transfer", api.act(counter, "transfer", f"c{next(_ids)}", service="B"))
        else:
            check("start", api.act(counter, "start", f"c{next(_ids)}"))
            check("finish", api.act(counter, "finish", f"c{next(_ids)}"))
    return refused


VIEWER_PW = "sandi-kota-rahasia"


def write(path, text):
    path.write_text(text)
    return path


def viewer_get(url: str) -> urllib.request.Request:
    token = base64.b64encode(f"kepala-dinas:{VIEWER_PW}".encode()).decode()
    return urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})


def central_rows(dsn: str, sql: str, *args):
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql, args).fetchall()


@pytest.mark.slow
def test_a_city_keeps_every_event_once_through_a_cut_link(tmp_path, pg_dsn):
    """GIVEN three sites bridged over TLS to the centre WHEN they work, one site's link is cut
    and it keeps working, then the link returns THEN the site issued and called throughout, the
    centre saw the link go offline and online, holds every event exactly once, and its figures
    for each site equal the site's own statistics."""
    central = CentralBroker(tmp_path / "central", make_ca(tmp_path / "ca"))
    # One kiosk token plays a whole morning in seconds: its per-minute limit is off here.
    sites = [CitySite(tmp_path / s, s, central, pg_dsn, name=f"Puskesmas {s[4:].title()}",
                      env={"LALOPA_KIOSK_RATE_PER_MIN": "0"}) for s in SITES]
    central.start()
    http = free_port()
    subprocess.run([sys.executable, "-m", "broker.cli", "central", "add-viewer", "--dsn", pg_dsn,
                    "--name", "kepala-dinas", "--password-file", str(write(tmp_path / "viewer", VIEWER_PW))],
                   cwd=REPO, check=True, capture_output=True)
    (tmp_path / "central.password").write_text(central.central_password)
    log = open(tmp_path / "central.log", "ab")
    centre = subprocess.Popen([sys.executable, "-m", "broker.cli", "central", "serve", "--dsn", pg_dsn,
                               "--mqtt-port", str(central.port), "--mqtt-password-file",
                               str(tmp_path / "central.password"), "--port", str(http)],
                              cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        for s in sites:
            s.start()
        for s in sites:
            s.wait_http()

        def links():
            return dict(central_rows(pg_dsn, "SELECT site, link FROM sites"))
        wait_until(lambda: links() == {s: "online" for s in SITES}, 30, "every bridge online at the centre")
        for s in sites:
            assert play(s, 8) == []

        cut = sites[0]
        cut.link.cut()
        wait_until(lambda: links()[cut.site] == "offline", 30, "the cut link shown offline centrally")
        before = cut.head()
        assert play(cut, 10) == []  # the site keeps issuing and calling with no link
        assert cut.head() > before + 30
        stored = central_rows(pg_dsn, "SELECT stored_seq FROM sites WHERE site = %s", cut.site)[0][0]
        assert stored <= before  # nothing crossed while the link was down
        for s in sites[1:]:
            assert play(s, 4) == []
        cut.link.restore()

        def caught_up():
            rows = dict(central_rows(pg_dsn, "SELECT site, stored_seq FROM sites"))
            return all(rows.get(s.site) == s.head() for s in sites)
        wait_until(caught_up, 45, "every site's log at the centre")
        assert links()[cut.site] == "online"
        # The outage crossed in the bridge's queue: the centre never had to ask for a gap.
        assert "asked" not in (tmp_path / "central.log").read_text()
        for s in sites:
            count, low, high = central_rows(
                pg_dsn, "SELECT COUNT(*), MIN(seq), MAX(seq) FROM events WHERE site = %s", s.site)[0]
            assert (count, low, high) == (s.head(), 1, s.head())  # every event, once

        # The centre's figures equal each site's own statistics.
        with urllib.request.urlopen(viewer_get(f"http://127.0.0.1:{http}/api/city/live"), timeout=10) as resp:
            live = {row["site"]: row for row in json.loads(resp.read())["sites"]}
        for s in sites:
            conn = sqlite_connect(s.db)
            day = conn.execute("SELECT value FROM state WHERE key = 'current_day'").fetchone()[0]
            own = day_stats(conn, load_site(s.site_file), day)
            conn.close()
            url = f"http://127.0.0.1:{http}/api/city/report?from={day}&to={day}&by=service"
            with urllib.request.urlopen(viewer_get(url), timeout=10) as resp:
                rows = {r["key"].split("/")[1]: r for r in json.loads(resp.read())["rows"]
                        if r["key"].startswith(s.site + "/")}
            for prefix, fig in own["services"].items():
                city = rows.get(prefix, {})
                for key in ("issued", "served", "no_show", "cancelled", "waiting"):
                    assert city.get(key, 0) == fig[key], (s.site, prefix, key)
                assert city.get("mean_wait_s") == fig["wait"]["mean_s"], (s.site, prefix)
                assert city.get("within_target") == fig["within_target"], (s.site, prefix)
            today = live[s.site]["today"]
            assert (today["issued"], today["served"], today["no_show"], today["waiting"]) == \
                (own["issued"], own["served"], own["no_show"], own["waiting"])
            assert today["mean_wait_s"] == own["wait"]["mean_s"]
            assert live[s.site]["waiting_now"] == own["waiting"]
            assert date.fromisoformat(live[s.site]["day"]) == date.fromisoformat(day)
    finally:
        centre.terminate()
        try:
            centre.wait(10)
        except subprocess.TimeoutExpired:
            centre.kill()
        log.close()
        for s in sites:
            s.stop()
        central.cleanup()
