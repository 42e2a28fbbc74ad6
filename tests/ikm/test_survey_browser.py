"""The survey in real Chromium: a served ticket's status page becomes the survey on a phone,
and the tablet by the exit takes today's ticket number."""
from __future__ import annotations

import pytest

from server import ikm
from server.app import create_app
from server.devtools.devserver import ThreadedServer

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def site(svc):
    app = create_app({"LALOPA_QUEUE": svc, "LALOPA_DB": svc.db.path})
    with ThreadedServer(app) as url:
        yield url


def _rows(svc):
    return [dict(r) for r in svc.db.read().execute("SELECT * FROM ikm_responses ORDER BY id")]


def _answer_all(page, value: int):
    for code in ikm.CODES:
        page.check(f"#el-{code} input[value='{value}']")


def test_phone_status_page_becomes_the_survey_after_service(browser, site, svc, serve):
    """GIVEN a ticket waiting, then served at counter 2 WHEN its QR page is open on a phone THEN
    it shows the status while waiting and the survey once served; the answers are stored once,
    linked to service A, counter 2; a second send (back and resubmit) stores nothing more."""
    ticket = serve.issue("A")
    ctx = browser.new_context(viewport=PHONE)
    ctx.set_default_timeout(8000)
    page = ctx.new_page()
    page.goto(f"{site}/t/{ticket['token']}")
    assert page.locator("#survey-form").count() == 0 and "Menunggu" in page.content()
    serve.act(2, "next")
    serve.act(2, "finish")
    page.goto(f"{site}/t/{ticket['token']}")
    page.wait_for_selector("#survey-form")
    assert page.locator("fieldset[id^=el-]").count() == 9
    page.click("#survey-submit")   # nothing answered: the browser keeps the form, nothing sent
    assert _rows(svc) == []
    _answer_all(page, 4)
    page.check("#el-u3 input[value='2']")
    page.fill("textarea[name=comment]", "Ruang tunggu panas / the waiting room is hot")
    sent = {el.get_attribute("name"): el.get_attribute("value")
            for el in page.query_selector_all("#survey-form input:checked, #survey-form input[type=hidden]")}
    sent["comment"] = page.input_value("textarea[name=comment]")
    page.click("#survey-submit")
    page.wait_for_selector("#survey-thanks")
    again = page.request.post(f"{site}/t/{ticket['token']}/survei", form=sent)  # a resent POST
    assert again.status == 200 and "survey-thanks" in again.text()
    rows = _rows(svc)
    assert len(rows) == 1
    assert (rows[0]["service"], rows[0]["counter"], rows[0]["channel"], rows[0]["u3"], rows[0]["u1"]) == \
        ("A", 2, "phone", 2, 4)
    page.goto(f"{site}/t/{ticket['token']}")
    page.wait_for_selector("#survey-thanks")
    ctx.close()


def test_exit_tablet_takes_the_number_and_refuses_unserved_and_repeated(browser, site, svc, serve):
    """GIVEN ticket B served and ticket A still waiting WHEN the exit tablet is used THEN A is
    refused with the Indonesian and English reason, B is rated once and a new form for B says
    it was already answered."""
    served = serve(counter=15, service="B")
    waiting = serve.issue("A")
    ctx = browser.new_context(viewport={"width": 800, "height": 1280})
    ctx.set_default_timeout(8000)
    page = ctx.new_page()
    page.goto(f"{site}/survei")
    page.fill("#nomor", waiting["number"].lower())
    page.click("#survey-start")
    page.wait_for_selector("#survey-error")
    assert "setelah Anda selesai dilayani" in page.inner_text("#survey-error")
    assert "once you have been served" in page.inner_text("#survey-error")
    page.goto(f"{site}/survei")
    page.fill("#nomor", served["number"])
    page.click("#survey-start")
    page.wait_for_selector("#survey-form")
    _answer_all(page, 3)
    page.click("#survey-submit")
    page.wait_for_selector("#survey-thanks")
    page.goto(f"{site}/survei?nomor={served['number']}")
    page.wait_for_selector("#survey-thanks")
    rows = _rows(svc)
    assert [(r["service"], r["counter"], r["channel"]) for r in rows] == [("B", 15, "exit")]
    ctx.close()


def test_device_api_refuses_malformed_and_repeated(site, svc, serve):
    """GIVEN a served ticket WHEN a device posts the survey as JSON THEN 201, the repeat 200,
    another id 409 survey_answered, a malformed body 400, each with ID and EN text."""
    import requests
    ticket = serve()
    body = {"submission_id": "dev-1", "token": ticket["token"], "answers": {c: 3 for c in ikm.CODES}}
    assert requests.post(f"{site}/api/v1/survey", json=body, timeout=5).status_code == 201
    assert requests.post(f"{site}/api/v1/survey", json=body, timeout=5).status_code == 200
    r = requests.post(f"{site}/api/v1/survey", json={**body, "submission_id": "dev-2"}, timeout=5)
    assert r.status_code == 409 and r.json()["error"]["code"] == "survey_answered"
    bad = requests.post(f"{site}/api/v1/survey", json={**body, "answers": {"u1": 9}}, timeout=5)
    err = bad.json()["error"]
    assert bad.status_code == 400 and err["message_id"] and err["message_en"]
    assert len(_rows(svc)) == 1


def test_a_form_not_served_by_this_server_is_refused(site, svc, serve):
    """GIVEN a served ticket WHEN answers are posted without (or with a forged) form signature, as
    a page elsewhere could post them blind THEN 400 with the reason, and nothing is stored."""
    import requests
    ticket = serve()
    form = {"submission_id": "f-forged", **{c: "4" for c in ikm.CODES}}
    for extra in ({}, {"form_sig": "0" * 32}):
        r = requests.post(f"{site}/t/{ticket['token']}/survei", data={**form, **extra}, timeout=5)
        assert r.status_code == 400 and "tidak berasal dari server ini" in r.text
        r = requests.post(f"{site}/survei", data={**form, **extra, "nomor": ticket["number"]}, timeout=5)
        assert r.status_code == 400
    assert _rows(svc) == []
