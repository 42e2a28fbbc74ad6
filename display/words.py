"""Indonesian words for queue numbers, letters and counters: our own, tested.

Rules (the same as num2words' and espeak-ng's Indonesian): 0-9 are nol, satu ... sembilan;
the prefix *se-* replaces "satu" before 10, 11, 100 and 1000 (sepuluh,
sebelas, seratus, seribu); 12-19 are "N belas"; tens are "N puluh"; then
"N ratus", "N ribu". Words come back as a list because each word is one
voice clip.

Example::

    >>> number_words(1115)
    ['seribu', 'seratus', 'lima', 'belas']
    >>> announcement_clips("A-023", 5, reading="digits")
    ['nomor-antrean', 'huruf-a', 'nol', 'dua', 'tiga', 'silakan-menuju-loket', 'lima']
"""
from __future__ import annotations

UNITS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")

# Letter names as Indonesian speakers spell them (A "a", B "be", C "ce", ...).
LETTER_NAMES = {
    "A": "a", "B": "be", "C": "ce", "D": "de", "E": "e", "F": "ef", "G": "ge",
    "H": "ha", "I": "i", "J": "je", "K": "ka", "L": "el", "M": "em", "N": "en",
    "O": "o", "P": "pe", "Q": "ki", "R": "er", "S": "es", "T": "te", "U": "u",
    "V": "ve", "W": "we", "X": "eks", "Y": "ye", "Z": "zet",
}

READINGS = ("number", "digits")
MAX_NUMBER = 9999


def number_words(n: int) -> list[str]:
    """Cardinal words for 0..9999, e.g. 23 -> ['dua', 'puluh', 'tiga']."""
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"number must be an integer in 0..{MAX_NUMBER}, got {n!r}")
    if n == 0:
        return ["nol"]
    return _below_10000(n)


def _below_10000(n: int) -> list[str]:
    thousands, rest = divmod(n, 1000)
    words = _scale(thousands, "seribu", "ribu")
    hundreds, rest = divmod(rest, 100)
    words += _scale(hundreds, "seratus", "ratus")
    return words + _below_100(rest)


def _scale(count: int, se_form: str, word: str) -> list[str]:
    # "seribu"/"seratus" for one, "N ribu"/"N ratus" otherwise, nothing for zero.
    if count == 0:
        return []
    if count == 1:
        return [se_form]
    return _below_100(count) + [word]


def _below_100(n: int) -> list[str]:
    if n == 0:
        return []
    if n < 10:
        return [UNITS[n]]
    if n == 10:
        return ["sepuluh"]
    if n == 11:
        return ["sebelas"]
    if n < 20:
        return [UNITS[n - 10], "belas"]
    tens, unit = divmod(n, 10)
    return [UNITS[tens], "puluh"] + ([UNITS[unit]] if unit else [])


def terbilang(n: int) -> str:
    """The number as one phrase, e.g. 115 -> 'seratus lima belas'."""
    return " ".join(number_words(n))


def digit_words(digits: str) -> list[str]:
    """Digit by digit, e.g. '023' -> ['nol', 'dua', 'tiga']."""
    if not digits.isdigit():
        raise ValueError(f"not a digit string: {digits!r}")
    return [UNITS[int(d)] for d in digits]


def letter_clip(letter: str) -> str:
    """Clip name of a service letter, e.g. 'A' -> 'huruf-a'."""
    letter = letter.upper()
    if letter not in LETTER_NAMES:
        raise ValueError(f"not a letter A-Z: {letter!r}")
    return f"huruf-{letter.lower()}"


def ticket_clips(ticket: str, reading: str = "number") -> list[str]:
    """Clip names for a ticket number such as 'A-023'."""
    if reading not in READINGS:
        raise ValueError(f"reading must be one of {READINGS}, got {reading!r}")
    prefix, _, digits = ticket.partition("-")
    if len(prefix) != 1 or not digits.isdigit():
        raise ValueError(f"ticket number must look like A-023, got {ticket!r}")
    spoken = digit_words(digits) if reading == "digits" else number_words(int(digits))
    return [letter_clip(prefix)] + spoken


def announcement_clips(ticket: str, counter: int, reading: str = "number") -> list[str]:
    """The spoken part of one call: 'nomor antrean A dua puluh tiga, silakan menuju loket lima'."""
    return (["nomor-antrean"] + ticket_clips(ticket, reading)
            + ["silakan-menuju-loket"] + number_words(counter))


# What espeak-ng says for each default clip (the clip name is also the file name).
PHRASES: dict[str, str] = {
    "nomor-antrean": "nomor antrean",
    "silakan-menuju-loket": "silakan menuju loket",
    **{w: w for w in UNITS},
    **{w: w for w in ("sepuluh", "sebelas", "belas", "puluh", "seratus", "ratus", "seribu", "ribu")},
    **{f"huruf-{k.lower()}": v for k, v in LETTER_NAMES.items()},
}


def all_clip_names() -> list[str]:
    """Every word clip a call can need (the chime is made in code, not spoken)."""
    return list(PHRASES)
