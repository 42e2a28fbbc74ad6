"""Indonesian number words 0-9999 against the rules in display/words.py (as num2words has them)."""
import pytest
from hypothesis import given, strategies as st
from num2words import num2words

from display.words import (LETTER_NAMES, all_clip_names, announcement_clips, digit_words,
                           number_words, terbilang, ticket_clips)

UNITS = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"]
SE = {"sepuluh": 10, "sebelas": 11, "seratus": 100, "seribu": 1000}
SCALES = {"belas": None, "puluh": 10, "ratus": 100, "ribu": 1000}
numbers = st.integers(min_value=0, max_value=9999)


def parse(words: list[str]) -> int:
    """An independent reader of the words: the inverse the rules imply."""
    total, group = 0, 0
    for w in words:
        if w in UNITS:
            group += UNITS.index(w)
        elif w in SE:
            value = SE[w]
            if value == 1000:
                total += 1000
            else:
                group += value
        elif w == "belas":
            group += 10
        elif w == "puluh":
            last = group % 10  # the unit word just read is the tens digit
            group += last * 9
        elif w == "ratus":
            group *= 100
        elif w == "ribu":
            total += group * 1000
            group = 0
        else:
            raise AssertionError(f"unexpected word {w!r}")
    return total + group


@given(numbers)
def test_words_read_back_to_the_number(n):
    """GIVEN any n in 0..9999 WHEN spelled THEN an independent reader gets n back."""
    assert parse(number_words(n)) == n


@given(numbers)
def test_se_prefix_replaces_satu(n):
    """GIVEN any n WHEN spelled THEN 'satu' never precedes belas/puluh/ratus/ribu
    (10, 11, 100, 1000 take se-), and 'nol' appears only for zero itself."""
    words = number_words(n)
    for a, b in zip(words, words[1:]):
        assert not (a == "satu" and b in SCALES)
    assert ("nol" in words) == (n == 0)
    assert set(words) <= set(UNITS) | set(SE) | set(SCALES)


@given(numbers)
def test_matches_num2words_cross_check(n):
    """GIVEN any n WHEN spelled THEN it equals num2words(n, lang='id') (tests only)."""
    assert terbilang(n) == num2words(n, lang="id")


def test_every_number_matches_num2words():
    """GIVEN all 10,000 numbers WHEN spelled THEN each equals num2words' Indonesian."""
    assert [n for n in range(10000) if terbilang(n) != num2words(n, lang="id")] == []


@pytest.mark.parametrize("n, text", [
    (0, "nol"), (1, "satu"), (10, "sepuluh"), (11, "sebelas"), (12, "dua belas"),
    (19, "sembilan belas"), (20, "dua puluh"), (23, "dua puluh tiga"), (100, "seratus"),
    (101, "seratus satu"), (111, "seratus sebelas"), (115, "seratus lima belas"),
    (200, "dua ratus"), (1000, "seribu"), (1001, "seribu satu"), (1010, "seribu sepuluh"),
    (2011, "dua ribu sebelas"), (9999, "sembilan ribu sembilan ratus sembilan puluh sembilan"),
])
def test_examples_from_domain(n, text):
    """GIVEN the examples of the Indonesian number rules THEN the words match."""
    assert terbilang(n) == text


@pytest.mark.parametrize("bad", [-1, 10000, 2.0, True, "5"])
def test_out_of_range_is_refused(bad):
    """GIVEN a value outside 0..9999 or not an int THEN ValueError, not a wrong word."""
    with pytest.raises(ValueError):
        number_words(bad)


@given(st.text(alphabet="0123456789", min_size=1, max_size=4))
def test_digit_reading_says_each_digit(digits):
    """GIVEN a digit string THEN digit reading says exactly one unit word per digit."""
    assert digit_words(digits) == [UNITS[int(d)] for d in digits]


def test_ticket_and_announcement_clips():
    """GIVEN ticket A-023 at counter 5 THEN both readings give the agreed sentence,
    and every clip used is one the default set (and docs) name."""
    assert ticket_clips("A-023") == ["huruf-a", "dua", "puluh", "tiga"]
    assert ticket_clips("C-023", "digits") == ["huruf-c", "nol", "dua", "tiga"]
    clips = announcement_clips("B-1100", 16)
    assert clips == ["nomor-antrean", "huruf-b", "seribu", "seratus", "silakan-menuju-loket",
                     "enam", "belas"]
    names = set(all_clip_names())
    for letter in LETTER_NAMES:
        assert set(announcement_clips(f"{letter}-999", 16, "number")) <= names
    with pytest.raises(ValueError):
        ticket_clips("AA-1")
