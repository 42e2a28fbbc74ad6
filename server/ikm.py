"""The community satisfaction index (IKM) as PermenPANRB 14/2017 defines it.

Everything the regulation fixes is defined here once: the nine elements
(unsur, U1..U9) with their questions and answer words, the 1..4 scale, the
grade bands, and the sampling table. The arithmetic is plain functions over
lists of answers, so a report, an export and a test compute the same thing.

The index::

    NRR_i   = mean of the answers to element i            (1.00 .. 4.00)
    IKM     = sum_i (NRR_i * weight) * 25                 (25 .. 100)
    weight  = 1/9 (equal weight for nine elements)

The regulation's worked example writes the weight as 0.111, which makes the
highest possible index 4 * 9 * 0.111 * 25 = 99.9 instead of 100; public
implementations disagree on which to use. LALOPA uses exactly 1/9 and shows
the 0.111 figure beside it (:data:`ROUNDED_WEIGHT`).

    >>> round(index([4.0] * 9), 2), round(index([4.0] * 9, ROUNDED_WEIGHT), 2)
    (100.0, 99.9)
    >>> grade(88.31).letter, grade(88.30).letter
    ('A', 'B')
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from fractions import Fraction

from broker.vocab import IKM_SCALE

SCALE = IKM_SCALE   # the bus contract's smiley pads share it
#: Multiplier from the 1..4 scale to the 25..100 index.
SCALE_TO_INDEX = 25
EXACT_WEIGHT = Fraction(1, 9)
#: The weight as the regulation's worked example prints it (caps the index at 99.9).
ROUNDED_WEIGHT = 0.111


@dataclass(frozen=True)
class Element:
    """One element (unsur) of the survey: its code, names, question and the four answers."""

    code: str
    name_id: str
    name_en: str
    question_id: str
    question_en: str
    answers_id: tuple[str, str, str, str]   # for the values 1, 2, 3, 4
    answers_en: tuple[str, str, str, str]


# In the regulation's order (its annex lists them U1..U9).
ELEMENTS: tuple[Element, ...] = (
    Element("u1", "Persyaratan", "Requirements",
            "Bagaimana kesesuaian persyaratan pelayanan dengan jenis pelayanannya?",
            "How well did the requirements fit the service?",
            ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"),
            ("Not suitable", "Less suitable", "Suitable", "Very suitable")),
    Element("u2", "Sistem, mekanisme dan prosedur", "System, mechanism and procedure",
            "Bagaimana kemudahan prosedur pelayanan di unit ini?",
            "How easy was the service procedure?",
            ("Tidak mudah", "Kurang mudah", "Mudah", "Sangat mudah"),
            ("Not easy", "Less easy", "Easy", "Very easy")),
    Element("u3", "Waktu penyelesaian", "Completion time",
            "Bagaimana kecepatan waktu dalam memberikan pelayanan?",
            "How fast was the service?",
            ("Tidak cepat", "Kurang cepat", "Cepat", "Sangat cepat"),
            ("Not fast", "Less fast", "Fast", "Very fast")),
    Element("u4", "Biaya/tarif", "Cost/fee",
            "Bagaimana kewajaran biaya/tarif dalam pelayanan?",
            "How fair was the cost or fee of the service?",
            ("Sangat mahal", "Cukup mahal", "Murah", "Gratis"),
            ("Very expensive", "Fairly expensive", "Cheap", "Free")),
    Element("u5", "Produk spesifikasi jenis pelayanan", "Service product as specified",
            "Bagaimana kesesuaian hasil pelayanan dengan yang tercantum dalam standar pelayanan?",
            "How well did the result match what the service standard promises?",
            ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"),
            ("Not suitable", "Less suitable", "Suitable", "Very suitable")),
    Element("u6", "Kompetensi pelaksana", "Staff competence",
            "Bagaimana kompetensi/kemampuan petugas dalam pelayanan?",
            "How competent were the staff?",
            ("Tidak kompeten", "Kurang kompeten", "Kompeten", "Sangat kompeten"),
            ("Not competent", "Less competent", "Competent", "Very competent")),
    Element("u7", "Perilaku pelaksana", "Staff conduct",
            "Bagaimana kesopanan dan keramahan petugas dalam memberikan pelayanan?",
            "How polite and friendly were the staff?",
            ("Tidak sopan dan ramah", "Kurang sopan dan ramah", "Sopan dan ramah",
             "Sangat sopan dan ramah"),
            ("Not polite and friendly", "Less polite and friendly", "Polite and friendly",
             "Very polite and friendly")),
    Element("u8", "Penanganan pengaduan, saran dan masukan", "Handling of complaints and suggestions",
            "Bagaimana penanganan pengaduan pengguna layanan?",
            "How are complaints from service users handled?",
            ("Tidak ada", "Ada tetapi tidak berfungsi", "Berfungsi kurang maksimal",
             "Dikelola dengan baik"),
            ("None", "Exists but does not work", "Works, not fully", "Well managed")),
    Element("u9", "Sarana dan prasarana", "Facilities and infrastructure",
            "Bagaimana kualitas sarana dan prasarana?",
            "How good were the facilities?",
            ("Buruk", "Cukup", "Baik", "Sangat baik"),
            ("Poor", "Fair", "Good", "Very good")),
)
CODES: tuple[str, ...] = tuple(e.code for e in ELEMENTS)
BY_CODE: dict[str, Element] = {e.code: e for e in ELEMENTS}


@dataclass(frozen=True)
class Grade:
    """One quality grade (mutu pelayanan) with its bands on both scales."""

    letter: str
    name_id: str
    name_en: str
    index_min: float     # lowest IKM (25..100) of the band
    nrr_min: float       # lowest NRR (1..4) of the band, for one element


# The regulation's conversion table, best first. A band runs from its minimum up
# to the next better band's minimum (the regulation prints 76.61-88.30 etc.).
GRADES: tuple[Grade, ...] = (
    Grade("A", "Sangat Baik", "Very good", 88.31, 3.5324),
    Grade("B", "Baik", "Good", 76.61, 3.0644),
    Grade("C", "Kurang Baik", "Poor", 65.00, 2.60),
    Grade("D", "Tidak Baik", "Very poor", 25.00, 1.00),
)


def grade(ikm: float) -> Grade:
    """The grade of an index value (25..100); values are compared at 2 decimals,
    as the regulation's table is printed."""
    value = round(ikm, 2)
    return next((g for g in GRADES if value >= g.index_min), GRADES[-1])


def element_grade(nrr: float) -> Grade:
    """The grade of one element's NRR (1..4), by the regulation's interval table."""
    value = round(nrr, 4)
    return next((g for g in GRADES if value >= g.nrr_min), GRADES[-1])


def nrr(answers: list[int]) -> float | None:
    """The mean value (nilai rata-rata) of one element's answers; None without answers."""
    return sum(answers) / len(answers) if answers else None


def index(nrrs: list[float], weight: float | Fraction = EXACT_WEIGHT) -> float:
    """IKM = sum(NRR x weight) x 25 over the nine elements."""
    if len(nrrs) != len(ELEMENTS):
        raise ValueError(f"the index needs {len(ELEMENTS)} element means, got {len(nrrs)}")
    if weight == EXACT_WEIGHT:   # divide, so four in every element is exactly 100.0
        return sum(nrrs) / len(ELEMENTS) * SCALE_TO_INDEX
    return sum(nrrs) * float(weight) * SCALE_TO_INDEX


# The regulation's sampling table (Krejcie and Morgan, 95 % confidence, 5 % error):
# population -> minimum number of respondents.
SAMPLE_TABLE: tuple[tuple[int, int], ...] = (
    (10, 10), (15, 14), (20, 19), (25, 24), (30, 28), (35, 32), (40, 36), (45, 40), (50, 44),
    (55, 48), (60, 52), (65, 56), (70, 59), (75, 63), (80, 66), (85, 70), (90, 73), (95, 76),
    (100, 80), (110, 86), (120, 92), (130, 97), (140, 103), (150, 108), (160, 113), (170, 118),
    (180, 123), (190, 127), (200, 132), (210, 136), (220, 140), (230, 144), (240, 148),
    (250, 152), (260, 155), (270, 159), (280, 162), (290, 165), (300, 169), (320, 175),
    (340, 181), (360, 186), (380, 191), (400, 196), (420, 201), (440, 205), (460, 210),
    (480, 214), (500, 217), (550, 226), (600, 234), (650, 242), (700, 248), (750, 254),
    (800, 260), (850, 265), (900, 269), (950, 274), (1000, 278), (1100, 285), (1200, 291),
    (1300, 297), (1400, 302), (1500, 306), (1600, 310), (1700, 313), (1800, 317), (1900, 320),
    (2000, 322), (2200, 327), (2400, 331), (2600, 335), (2800, 338), (3000, 341), (3500, 346),
    (4000, 351), (4500, 354), (5000, 357), (6000, 361), (7000, 364), (8000, 367), (9000, 368),
    (10000, 370), (15000, 375), (20000, 377), (30000, 379), (40000, 380), (50000, 381),
    (75000, 382), (100000, 384),
)
_POPULATIONS = [p for p, _ in SAMPLE_TABLE]


def minimum_sample(population: int) -> int:
    """Respondents the table asks for ``population`` residents served.

    A population between two rows takes the larger row (never too few); one
    below the first row must all answer; above the last row, the last row."""
    if population <= 0:
        return 0
    if population < _POPULATIONS[0]:
        return population
    i = bisect.bisect_left(_POPULATIONS, population)
    return SAMPLE_TABLE[min(i, len(SAMPLE_TABLE) - 1)][1]


def summarise(responses: list[dict], population: int) -> dict:
    """The report of one set of responses (each a dict with ``u1``..``u9``).

    ``population``: residents served in the same period (the sampling base).
    """
    n = len(responses)
    elements = []
    for e in ELEMENTS:
        value = nrr([r[e.code] for r in responses])
        elements.append({"code": e.code, "name_id": e.name_id, "name_en": e.name_en, "nrr": value,
                         "grade": element_grade(value).letter if value is not None else None})
    out = {"responses": n, "population": population, "minimum_sample": minimum_sample(population),
           "elements": elements, "ikm": None, "ikm_rounded_weight": None, "grade": None,
           "weakest": None}
    out["sample_enough"] = n >= out["minimum_sample"] and n > 0
    if n:
        nrrs = [el["nrr"] for el in elements]
        out["ikm"] = index(nrrs)
        out["ikm_rounded_weight"] = index(nrrs, ROUNDED_WEIGHT)
        g = grade(out["ikm"])
        out["grade"] = {"letter": g.letter, "name_id": g.name_id, "name_en": g.name_en}
        out["weakest"] = min(elements, key=lambda el: (el["nrr"], el["code"]))
    return out
