"""The verifier panel end to end in real headless Chromium: every action, shortcuts, idempotency."""
from server.devtools.screenshots import PASSWORD

COUNTER = 6  # not used by the sample morning: starts closed


def _calls(demo) -> int:
    return demo.svc.db.read().execute("SELECT COUNT(*) FROM calls").fetchone()[0]


def _ticket(demo, number: str):
    day = demo.svc.now()["service_day"]
    return demo.svc.db.read().execute("SELECT * FROM tickets WHERE service_day = ? AND number = ?",
                                      (day, number)).fetchone()


def _current(page) -> str:
    return page.text_content("#current-number")


def _press(page, key: str, expect_msg: str) -> None:
    """Press a shortcut with the focus on the page and wait for the server's answer."""
    page.evaluate("document.getElementById('msg').textContent = ''")
    page.locator("h1").click()
    page.keyboard.press(key)
    page.wait_for_function("m => document.getElementById('msg').textContent.includes(m)",
                           arg=expect_msg)


def _submit(page, form: str, expect_msg: str) -> None:
    page.evaluate("document.getElementById('msg').textContent = ''")
    page.locator(f"{form} button[type=submit]").click()
    page.wait_for_function("() => document.getElementById('msg').textContent !== ''")
    assert expect_msg in page.text_content("#msg")


def test_panel_actions_end_to_end(demo, context, login):
    """GIVEN a verifier who chose counter 6 at log-in and people waiting WHEN they use N, R, S,
    F, X, transfer, pause, resume and call-specific THEN each reaches the queue and the page
    shows the new state without a reload; every action carries the verifier's user id."""
    uid = demo.app.extensions["lalopa.users"].create("verif6", "verifier", PASSWORD)
    for i in range(3):
        demo.svc.issue("A", request_id=f"panel-a{i}", device="kiosk-test")
    target = demo.svc.issue("C", request_id="panel-c", device="kiosk-test")["ticket"]["number"]
    page = context.new_page()
    login(page, demo.url, "verif6", counter=str(COUNTER))
    assert page.url.endswith("/panel")
    page.wait_for_selector("#conn.online")
    waiting = [t["number"] for t in page.request.get(f"{demo.url}/panel/state.json").json()["queue"]]
    calls = _calls(demo)

    _press(page, "n", "dipanggil")                     # N: opens the counter and calls the head
    first = _current(page)
    assert first in waiting and _calls(demo) == calls + 1
    page.wait_for_function("n => !document.querySelector(`#queue li[data-number='${n}']`)", arg=first)
    _press(page, "r", "dipanggil ulang")                   # R: a second call of the same number
    assert _calls(demo) == calls + 2 and _ticket(demo, first)["recall_count"] == 1
    _press(page, "s", "Mulai melayani")
    page.wait_for_function("() => document.getElementById('current-status').textContent !== ''")
    assert _ticket(demo, first)["status"] == "serving"
    _press(page, "f", "selesai dilayani")
    row = _ticket(demo, first)
    assert row["status"] == "done" and row["user_id"] == uid and row["counter"] == COUNTER

    _press(page, "n", "dipanggil")
    second = _current(page)
    _press(page, "x", "tidak hadir")
    assert _ticket(demo, second)["status"] == "no_show"

    _press(page, "n", "dipanggil")
    third = _current(page)
    page.select_option("#transfer-service", "B")
    _submit(page, "#form-transfer", "dialihkan")
    assert _ticket(demo, third)["service"] == "B" and _ticket(demo, third)["status"] == "waiting"

    page.fill("#pause-reason", "Rapat")
    _submit(page, "#form-pause", "Loket istirahat")
    page.wait_for_function("() => document.getElementById('counter-status').textContent.includes('Rapat')")
    assert demo.svc.counter_state(COUNTER)["pause_reason"] == "Rapat"
    page.click("#btn-resume")
    page.wait_for_function("() => document.getElementById('btn-resume').hidden")
    assert demo.svc.counter_state(COUNTER)["status"] == "open"

    page.fill("#call-ticket", target.lower())     # typed in lower case: still found
    page.fill("#call-reason", "Lansia, dipanggil dulu")
    _submit(page, "#form-call", "dipanggil")
    page.wait_for_function("n => document.getElementById('current-number').textContent === n",
                           arg=target)
    page.fill("#call-ticket", "Z-999")
    _submit(page, "#form-call", "/")              # an error: Indonesian / English
    assert "tidak ada hari ini" in page.text_content("#msg") and "was not issued" in page.text_content("#msg")
    assert _current(page) == target


def test_a_repeated_command_id_never_calls_twice(demo, context, login):
    """GIVEN a verifier's panel WHEN the same click (same command_id) reaches the server twice
    THEN the second answer is the recorded one (duplicate) and only one call was made; a POST
    without the CSRF header is refused."""
    demo.app.extensions["lalopa.users"].create("verif7", "verifier", PASSWORD, counter=7)
    for i in range(2):
        demo.svc.issue("A", request_id=f"dup-a{i}", device="kiosk-test")
    page = context.new_page()
    login(page, demo.url, "verif7")
    page.wait_for_selector("#conn.online")
    csrf = page.evaluate("window.LALOPA.csrf")
    calls = _calls(demo)
    body = {"action": "next", "command_id": "klik-123"}
    url = f"{demo.url}/panel/action"
    first = page.request.post(url, data=body, headers={"X-CSRF-Token": csrf}).json()
    again = page.request.post(url, data=body, headers={"X-CSRF-Token": csrf}).json()
    assert first["duplicate"] is False and again["duplicate"] is True
    assert again["ticket"]["number"] == first["ticket"]["number"]
    assert _calls(demo) == calls + 1
    refused = page.request.post(url, data={"action": "next", "command_id": "klik-124"})
    assert refused.status == 403 and _calls(demo) == calls + 1
    page.wait_for_function("n => document.getElementById('current-number').textContent === n",
                           arg=first["ticket"]["number"])
