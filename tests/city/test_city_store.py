"""The city store: each (site, seq) once, in order, whatever the arrival order; daily figures."""
from datetime import date

from broker.protocol import CityBatch, CityEvent
from server.central import views
from server.central.store import Store

DAY = "2026-11-23"
T0 = 1795400000000  # 2026-11-23 08:33 WIB


def ev(seq, kind, ticket=None, at=0, **kw):
    number = f"A-{ticket:03d}" if ticket else None
    return CityEvent(seq=seq, day=DAY, kind=kind, at_ms=T0 + at * 1000, ticket=ticket, number=number,
                     prefix="A" if ticket else None, service=kw.pop("service", "A") if ticket else None, **kw)


def log_of_a_morning():
    """Counter 1 opens; two tickets; the first is called after 600 s and finished; the second waits."""
    return [ev(1, "opened", counter=1), ev(2, "issued", 1, 0), ev(3, "issued", 2, 60),
            ev(4, "called", 1, 600, counter=1), ev(5, "started", 1, 620, counter=1),
            ev(6, "finished", 1, 900, counter=1)]


def batch(events, head=None):
    return CityBatch(site="pkm-a", first=events[0].seq, head=head or events[-1].seq, sent_ms=T0,
                     events=tuple(events))


def test_duplicates_and_reordering_change_nothing(pg_dsn):
    """GIVEN a site's log WHEN it arrives out of order, with a hole filled later and every
    batch twice THEN each event is stored once, applied in seq order, and the figures are exact."""
    store = Store(pg_dsn)
    store.add_site("pkm-a", "Puskesmas A", clusters={"A": "dewasa-lansia"}, now_ms=T0)
    log = log_of_a_morning()
    late = store.ingest([batch(log[3:])], T0)["pkm-a"]
    assert late.stored_seq == 0 and late.gap == (1, 3)          # a hole: nothing applied yet
    first = store.ingest([batch(log[:3]), batch(log[:3])], T0)["pkm-a"]
    assert first.stored_seq == 6 and first.gap is None
    again = store.ingest([batch(log), batch(log[2:5])], T0)["pkm-a"]
    assert again.inserted == 0 and again.stored_seq == 6
    assert store.conn.execute("SELECT COUNT(*) AS n FROM events").fetchone()["n"] == 6
    t = store.conn.execute("SELECT * FROM tickets WHERE ticket = 1").fetchone()
    assert (t["status"], t["first_called_ms"] - t["issued_ms"], t["finished_ms"] - t["started_ms"]) \
        == ("done", 600000, 280000)
    rep = views.report(store, date(2026, 11, 23), date(2026, 11, 23), "cluster")
    row = rep["rows"][0]
    assert (row["key"], row["issued"], row["served"], row["waiting"], row["mean_wait_s"],
            row["mean_service_s"], row["wait_15"]) == ("dewasa-lansia", 2, 1, 1, 600.0, 280.0, 1)


def test_a_missing_tail_is_reported_as_a_gap(pg_dsn):
    """GIVEN a batch that says the site has seq 9 WHEN only 1..6 arrived THEN the gap is 7..9."""
    store = Store(pg_dsn)
    progress = store.ingest([batch(log_of_a_morning(), head=9)], T0)["pkm-a"]
    assert progress.stored_seq == 6 and progress.gap == (7, 9)
    site = store.conn.execute("SELECT * FROM sites WHERE site = 'pkm-a'").fetchone()
    assert site["gap_since_ms"] == T0 and site["head_seq"] == 9


def test_live_view_shows_waiting_counters_and_alerts(pg_dsn):
    """GIVEN the morning's log and an offline link WHEN the live view is read an hour later
    THEN it shows one waiting since 08:34, one counter open, and the long wait and link alerts."""
    store = Store(pg_dsn)
    store.add_site("pkm-a", "Puskesmas A", target_wait_min=30, now_ms=T0)
    store.ingest([batch(log_of_a_morning())], T0)
    store.set_link("pkm-a", False, T0 + 1000)
    now = T0 + 3600 * 1000
    live = views.live(store, now)
    site = live["sites"][0]
    assert (site["waiting_now"], site["longest_wait_s"], site["counters_open"], site["link"]) \
        == (1, 3540, 1, "offline")
    assert {a["kind"] for a in live["alerts"]} == {"wait", "link"}
    assert live["today"]["issued"] == 2


def test_live_view_names_offline_devices_and_printers(pg_dsn):
    """GIVEN a site's retained presence and printer state as the ingest stores it WHEN the live
    view is read THEN the offline box and the empty printer are shown and alerted."""
    store = Store(pg_dsn)
    store.add_site("pkm-a", "Puskesmas A", now_ms=T0)
    store.set_live([("pkm-a", "presence/button/box-04", {"role": "button", "device": "box-04",
                                                          "status": "offline"}),
                    ("pkm-a", "presence/display/board-1", {"role": "display", "device": "board-1",
                                                            "status": "online"}),
                    ("pkm-a", "kiosk/kiosk-1/printer", {"kiosk": "kiosk-1", "status": "paper_out"})], T0)
    live = views.live(store, T0)
    site = live["sites"][0]
    assert site["devices_offline"] == ["button/box-04"]
    assert site["printers"] == ["kiosk-1: paper_out"]
    assert {a["kind"] for a in live["alerts"]} == {"device", "printer"}


def test_reports_export_like_the_site_reports(pg_dsn):
    """GIVEN a day stored for a site whose name starts like a formula WHEN the report is read
    as JSON, CSV and XLSX THEN the figures agree, the name is inert text, and a bad period is a
    400 in Indonesian and English."""
    from server.central.viewers import add_viewer
    from server.central.web import create_app
    store = Store(pg_dsn)
    store.add_site("pkm-a", "=HYPERLINK(\"x\")", clusters={"A": "dewasa-lansia"}, now_ms=T0)
    store.ingest([batch(log_of_a_morning())], T0)
    add_viewer(store, "kepala-dinas", "sandi-kota-rahasia")
    store.close()
    client = create_app(pg_dsn).test_client()
    client.post("/login", data={"name": "kepala-dinas", "password": "sandi-kota-rahasia"})
    q = f"from={DAY}&to={DAY}&by=site"
    rep = client.get(f"/api/city/report?{q}").get_json()
    assert (rep["total"]["issued"], rep["total"]["served"], rep["rows"][0]["mean_wait_s"]) == (2, 1, 600.0)
    csv_text = client.get(f"/reports/export.csv?{q}").get_data(as_text=True)
    assert "'=HYPERLINK" in csv_text and "\npkm-a," in csv_text
    xlsx = client.get(f"/reports/export.xlsx?{q}")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert client.get(f"/reports?{q}").status_code == 200
    bad = client.get("/api/city/report?from=2026-13-01")
    assert bad.status_code == 400 and "Periode" in bad.get_json()["error"]["message_id"]


def test_the_dashboard_needs_a_viewer_and_limits_guessing(pg_dsn):
    """GIVEN a viewer WHEN the dashboard is opened without logging in, with a wrong password, with
    HTTP Basic, and after five wrong guesses THEN it redirects or answers 401 (ID+EN), lets the right
    password in, and then refuses that name from that address with 429 before checking it."""
    from server.central.viewers import add_viewer
    from server.central.web import create_app
    store = Store(pg_dsn)
    add_viewer(store, "kepala-dinas", "sandi-kota-rahasia")
    store.close()
    client = create_app(pg_dsn).test_client()
    assert client.get("/").status_code == 302
    refused = client.get("/api/city/live")
    assert refused.status_code == 401 and "masuk" in refused.get_json()["error"]["message_id"].lower()
    assert client.post("/login", data={"name": "kepala-dinas", "password": "salah"}).status_code == 401
    basic = {"Authorization": "Basic " + __import__("base64").b64encode(
        b"kepala-dinas:sandi-kota-rahasia").decode()}
    assert client.get("/api/city/live", headers=basic).status_code == 200
    assert client.post("/login", data={"name": "kepala-dinas", "password": "sandi-kota-rahasia"}
                       ).status_code == 302
    assert client.get("/api/city/live").status_code == 200
    other = create_app(pg_dsn).test_client()
    for _ in range(4):
        other.post("/login", data={"name": "kepala-dinas", "password": "salah"})
    limited = other.post("/login", data={"name": "kepala-dinas", "password": "sandi-kota-rahasia"})
    assert limited.status_code == 429 and b"Terlalu banyak" in limited.data
