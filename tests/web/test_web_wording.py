"""What a supervisor and a verifier read: actions and device states in words (Indonesian
first; English on the toggle), never raw codes; and the pages' own favicon, served locally."""
from broker.protocol import PRINTER_STATES, PrinterStatus, Presence
from server.devtools.devserver import ThreadedServer
from server.devtools.screenshots import PASSWORD, build_demo
from server.presence import DeviceBook
from server.web.i18n import PRINTER_STATE_LABELS

COUNTER = 7


def test_panel_says_what_happened_in_words(demo, context, login):
    """GIVEN a verifier at a closed counter with someone waiting WHEN they open the counter,
    call and recall THEN the panel says "Loket dibuka", "Nomor A-… dipanggil" and
    "… dipanggil ulang", and never the raw action names open / next / recall."""
    demo.app.extensions["lalopa.users"].create("verif7", "verifier", PASSWORD)
    demo.svc.issue("A", request_id="wording-a1", device="kiosk-test")
    page = context.new_page()
    login(page, demo.url, "verif7", counter=str(COUNTER))
    page.wait_for_selector("#conn.online")
    said = []
    for button in ("#btn-open", "#btn-next", "#btn-recall"):
        page.evaluate("document.getElementById('msg').textContent = ''")
        page.click(button)
        page.wait_for_function("() => document.getElementById('msg').textContent !== ''")
        said.append(page.text_content("#msg"))
    number = page.text_content("#current-number")
    assert said == ["Loket dibuka", f"Nomor {number} dipanggil", f"Nomor {number} dipanggil ulang"]
    for raw in ("open", "next", "recall", "Berhasil:"):
        assert not any(raw in text for text in said), (raw, said)


def test_dashboard_names_printer_states_and_roles_in_words(tmp_path, context, login):
    """GIVEN kiosks whose printers report every state, and a box offline WHEN the supervisor
    opens the live view THEN each printer state and role shows in Indonesian words and no raw
    code (paper_low, paper_out, button) is on the page; the English toggle shows English."""
    app, svc, clock, ids = build_demo(str(tmp_path))
    book = DeviceBook(now=lambda: "2026-11-23T09:40:00+07:00")
    for n, state in enumerate(PRINTER_STATES):
        book.presence(Presence(role="kiosk", device=f"kiosk-{n}", status="online"))
        book.printer(PrinterStatus(kiosk=f"kiosk-{n}", status=state))
    book.presence(Presence(role="button", device="box-09", status="offline"))
    app.extensions["lalopa.bridge"] = book
    try:
        with ThreadedServer(app) as url:
            page = context.new_page()
            login(page, url, "supervisor")
            page.wait_for_selector("tr[data-device='box-09']")
            table = page.text_content("#devices")
            for n, state in enumerate(PRINTER_STATES):
                row = page.text_content(f"tr[data-device='kiosk-{n}']")
                assert PRINTER_STATE_LABELS[state][0] in row, (state, row)
            assert "Tombol loket" in table and "Kiosk" in table
            for raw in ("paper_low", "paper_out", "button"):
                assert raw not in table, raw
            assert "Tombol loket" in page.text_content("#alerts")
            page.goto(f"{url}/lang/en")
            page.goto(f"{url}/dashboard")
            page.wait_for_selector("tr[data-device='kiosk-1']")
            assert PRINTER_STATE_LABELS[PRINTER_STATES[1]][1] in page.text_content(
                "tr[data-device='kiosk-1']")
    finally:
        svc.close()


def test_pages_have_a_local_favicon(demo, context):
    """GIVEN the log-in page (no session) WHEN loaded THEN it links an SVG icon on this server,
    and that icon is served as SVG."""
    page = context.new_page()
    page.goto(f"{demo.url}/login")
    href = page.get_attribute("link[rel=icon]", "href")
    assert href and href.startswith("/") and href.endswith(".svg")
    resp = page.request.get(demo.url + href)
    assert resp.status == 200 and resp.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in resp.body()
