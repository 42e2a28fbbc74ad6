"""Survey responses: one per served ticket, idempotent by submission id, refusals change nothing."""
from __future__ import annotations

import pytest

from server import errors, ikm, survey

GOOD = {code: 3 for code in ikm.CODES}


def _count(svc, table="ikm_responses"):
    return svc.db.read().execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def _ticket_id(svc, ticket):
    return svc.db.read().execute("SELECT id FROM tickets WHERE number = ?",
                                 (ticket["number"],)).fetchone()[0]


def test_served_ticket_is_rated_once_with_service_counter_and_day(svc, serve):
    """GIVEN a ticket served at counter 3 WHEN rated THEN one row linked to its service, counter
    and day, with no person in it; the same submission again is a duplicate and changes nothing."""
    tid = _ticket_id(svc, serve(counter=3, service="A"))
    first = survey.submit(svc, ticket_id=tid, submission_id="s-1", answers=GOOD, comment=" Antre\tcepat ")
    again = survey.submit(svc, ticket_id=tid, submission_id="s-1", answers=GOOD, comment="Antre cepat")
    assert first["duplicate"] is False and again == {**first, "duplicate": True}
    row = dict(svc.db.read().execute("SELECT * FROM ikm_responses").fetchone())
    assert (row["service"], row["counter"], row["service_day"], row["comment"]) == ("A", 3, "2026-11-23", "Antre cepat")
    assert not {"user_id", "token", "number", "device"} & set(row)
    assert _count(svc) == 1


def test_second_response_for_the_same_ticket_is_refused(svc, serve):
    """GIVEN a rated ticket WHEN another submission rates it THEN survey_answered (409, ID+EN)."""
    tid = _ticket_id(svc, serve())
    survey.submit(svc, ticket_id=tid, submission_id="s-1", answers=GOOD)
    with pytest.raises(survey.AlreadyAnswered) as exc:
        survey.submit(svc, ticket_id=tid, submission_id="s-2", answers={**GOOD, "u1": 1})
    assert exc.value.status == 409 and "sudah diisi" in exc.value.message_id
    assert _count(svc) == 1


def test_same_submission_id_with_other_answers_is_a_conflict(svc, serve):
    """GIVEN a stored submission WHEN its id comes again with other answers THEN
    idempotency_conflict and the stored answer stays."""
    tid = _ticket_id(svc, serve())
    survey.submit(svc, ticket_id=tid, submission_id="s-1", answers=GOOD)
    with pytest.raises(errors.IdempotencyConflict):
        survey.submit(svc, ticket_id=tid, submission_id="s-1", answers={**GOOD, "u9": 4})
    assert _count(svc) == 1


@pytest.mark.parametrize("answers, comment, sub_id", [
    ({**GOOD, "u3": 5}, None, "s-1"),                 # off the scale
    ({**GOOD, "u3": 0}, None, "s-1"),
    ({**GOOD, "u3": True}, None, "s-1"),              # a bool is not an answer
    ({**GOOD, "u3": "3.5"}, None, "s-1"),
    ({k: v for k, v in GOOD.items() if k != "u9"}, None, "s-1"),   # an element missing
    (GOOD, "x" * 1001, "s-1"),                        # comment over its limit
    (GOOD, "a\x00b", "s-1"),                          # control character
    (GOOD, None, ""),                                 # no submission id
    (GOOD, None, "bad id with spaces"),
])
def test_malformed_responses_are_refused_and_change_nothing(svc, serve, answers, comment, sub_id):
    """GIVEN a malformed response WHEN submitted THEN survey_invalid with ID and EN text, no row."""
    tid = _ticket_id(svc, serve())
    with pytest.raises(survey.BadSurvey) as exc:
        survey.submit(svc, ticket_id=tid, submission_id=sub_id, answers=answers, comment=comment)
    assert exc.value.code == "survey_invalid" and exc.value.message_id and exc.value.message_en
    assert _count(svc) == 0


def test_ticket_not_served_or_too_old_is_refused(svc, serve, clock):
    """GIVEN a waiting ticket, and a ticket served eight days ago WHEN rated THEN refused, no row."""
    waiting = serve.issue("B")
    with pytest.raises(survey.NotServed):
        survey.submit(svc, ticket_id=_ticket_id(svc, waiting), submission_id="s-w", answers=GOOD)
    tid = _ticket_id(svc, serve())
    clock.advance((survey.SURVEY_WINDOW_DAYS + 1) * 86400)
    with pytest.raises(survey.SurveyExpired):
        survey.submit(svc, ticket_id=tid, submission_id="s-old", answers=GOOD)
    assert _count(svc) == 0


def test_smiley_vote_is_stored_once_and_linked_to_the_counters_last_service(svc, serve):
    """GIVEN counter 2 just served a C ticket WHEN its pad sends vote v-1 twice THEN one vote
    (score 4, counter 2, service C); a score off the scale is refused."""
    serve(counter=2, service="C")
    assert survey.record_vote(svc, vote_id="v-1", counter=2, score=4, device="box-02")["duplicate"] is False
    assert survey.record_vote(svc, vote_id="v-1", counter=2, score=4, device="box-02")["duplicate"] is True
    with pytest.raises(survey.BadSurvey):
        survey.record_vote(svc, vote_id="v-2", counter=2, score=5, device="box-02")
    rows = [dict(r) for r in svc.db.read().execute("SELECT counter, service, score FROM smiley_votes")]
    assert rows == [{"counter": 2, "service": "C", "score": 4}]


def test_typed_numbers_are_read_as_printed():
    """GIVEN numbers as residents type them WHEN normalised THEN the printed form, or None."""
    assert [survey.normalise_number(x) for x in ("a23", "A 023", " A-023 ", "c-1000")] == \
        ["A-023", "A-023", "A-023", "C-1000"]
    assert [survey.normalise_number(x) for x in ("AB-1", "A-", "", "A12345", None, 7)] == [None] * 6
