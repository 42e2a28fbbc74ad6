"""The index as PermenPANRB 14/2017 computes it, on sets worked out by hand."""
from __future__ import annotations

import pytest

from server import ikm

# Four respondents; per element the answers and, worked by hand, the mean (NRR).
SET_B = [  # u1 u2 u3 u4 u5 u6 u7 u8 u9
    (4, 3, 2, 4, 3, 4, 4, 2, 3),
    (3, 3, 2, 4, 4, 4, 4, 3, 3),
    (3, 3, 3, 4, 3, 3, 4, 3, 2),
    (2, 3, 1, 4, 4, 3, 3, 2, 4),
]
NRR_B = [3.00, 3.00, 2.00, 4.00, 3.50, 3.50, 3.75, 2.50, 3.00]   # sum 28.25


def _responses(rows):
    return [dict(zip(ikm.CODES, row)) for row in rows]


def test_hand_computed_set_both_weights():
    """GIVEN four responses worked by hand WHEN summarised THEN NRRs, index, grade and weakest
    element are the hand values: 28.25/9*25 = 78.472 (1/9) and 28.25*0.111*25 = 78.394 (0.111)."""
    report = ikm.summarise(_responses(SET_B), population=4)
    assert [el["nrr"] for el in report["elements"]] == NRR_B
    assert report["ikm"] == pytest.approx(78.4722, abs=1e-4)
    assert report["ikm_rounded_weight"] == pytest.approx(78.39375, abs=1e-9)
    assert report["grade"]["letter"] == "B" and report["grade"]["name_id"] == "Baik"
    assert report["weakest"]["code"] == "u3" and report["weakest"]["nrr"] == 2.0
    assert [el["grade"] for el in report["elements"]] == ["C", "C", "D", "A", "B", "B", "A", "D", "C"]


def test_the_two_conventions_can_give_different_grades():
    """GIVEN five responses with NRR 3.6 on eight elements and 3.0 on one (sum 31.8)
    WHEN indexed THEN 1/9 gives 88.333 (A) and 0.111 gives 88.245 (B)."""
    rows = [(4, 4, 4, 4, 4, 4, 4, 4, 3)] * 3 + [(3,) * 9] * 2
    report = ikm.summarise(_responses(rows), population=5)
    assert [el["nrr"] for el in report["elements"]] == [3.6] * 8 + [3.0]
    assert report["ikm"] == pytest.approx(88.3333, abs=1e-4)
    assert report["ikm_rounded_weight"] == pytest.approx(88.245, abs=1e-9)
    assert report["grade"]["letter"] == "A"
    assert ikm.grade(report["ikm_rounded_weight"]).letter == "B"


@pytest.mark.parametrize("value, letter", [
    (100, "A"), (88.31, "A"), (88.30, "B"), (76.61, "B"), (76.60, "C"), (65.00, "C"),
    (64.99, "D"), (25.00, "D")])
def test_grade_bands(value, letter):
    """GIVEN the regulation's band edges WHEN graded THEN each edge falls in its printed band."""
    assert ikm.grade(value).letter == letter


def test_extremes_and_the_cap_of_the_rounded_weight():
    """GIVEN all answers 4 (or all 1) WHEN indexed THEN 100 and 25 with 1/9, 99.9 and 24.975 with 0.111."""
    assert ikm.index([4.0] * 9) == 100.0 and ikm.index([1.0] * 9) == 25.0
    assert ikm.index([4.0] * 9, ikm.ROUNDED_WEIGHT) == pytest.approx(99.9)
    assert ikm.index([1.0] * 9, ikm.ROUNDED_WEIGHT) == pytest.approx(24.975)
    with pytest.raises(ValueError):
        ikm.index([4.0] * 8)


def test_no_responses_no_index():
    """GIVEN no response WHEN summarised THEN no index, no grade, and the sample is short."""
    report = ikm.summarise([], population=120)
    assert report["ikm"] is None and report["grade"] is None and report["weakest"] is None
    assert report["minimum_sample"] == 92 and report["sample_enough"] is False


def test_sampling_table_follows_its_formula_and_rounds_up():
    """GIVEN the regulation's sampling table WHEN each row is compared with Krejcie and Morgan's
    formula THEN they agree to one respondent (the last row is the formula's limit, 384); a
    population between rows takes the larger row; below the first row everyone answers."""
    for population, sample in ikm.SAMPLE_TABLE[:-1]:
        chi2, p, d = 3.841, 0.5, 0.05
        formula = chi2 * population * p * (1 - p) / (d * d * (population - 1) + chi2 * p * (1 - p))
        assert abs(formula - sample) <= 1.0, population
    assert ikm.minimum_sample(100) == 80 and ikm.minimum_sample(101) == 86
    assert ikm.minimum_sample(7) == 7 and ikm.minimum_sample(0) == 0
    assert ikm.minimum_sample(10**7) == 384


def test_nine_elements_with_four_answers_each():
    """GIVEN the element list WHEN read THEN nine elements U1..U9, each with four answers in
    both languages, in the regulation's order."""
    assert ikm.CODES == tuple(f"u{i}" for i in range(1, 10))
    assert ikm.ELEMENTS[0].name_id == "Persyaratan" and ikm.ELEMENTS[8].name_id == "Sarana dan prasarana"
    for e in ikm.ELEMENTS:
        assert len(e.answers_id) == len(e.answers_en) == len(ikm.SCALE)
