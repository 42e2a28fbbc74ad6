"""The one contract for every text a person types into LALOPA.

Names, requirements, flow steps, the running text, reasons and the contact
all pass :func:`clean` before they are stored: the site-file loader, the admin
forms, the HTTP API and the bus decoder use the rules below, and nothing else
defines a length or an allowed character. A text that passes fits every bus
payload it travels in (``broker.protocol`` takes its limits from here) and is
drawn by the board and the kiosk and printed on the ticket; a text that fails
is refused with an Indonesian and an English message and changes nothing.

What a text may hold:

* printable Unicode: letters, marks, digits, punctuation, symbols, spaces;
* no control characters (NUL included: SDL's text renderer refuses a string
  that contains one, which used to crash the board and the kiosk at start),
  no lone surrogates (they cannot be encoded as UTF-8), no private-use or
  unassigned code points, and no bidirectional overrides or other invisible
  format characters (they can make a name read backwards on the board);
* whitespace is normalised: every run of spaces, tabs or line breaks becomes
  one space and the ends are trimmed; the text is NFC-normalised;
* at most :data:`MAX_COMBINING` combining marks on one letter (enough for
  Vietnamese; a "zalgo" pile-up is refused);
* texts that go on the paper ticket (marked ``printed``) may only hold
  characters the ticket's ASCII normalisation keeps (:func:`to_ascii`):
  Latin letters with or without accents, digits, punctuation, typographic
  quotes and dashes. A cheap 58 mm printer has no other glyphs.

Renderers draw texts that came from elsewhere (an old database, a hostile bus
client) through :func:`displayable`, which never raises.

    >>> clean(COUNTER_NAME, "  Loket\\t5 ")
    'Loket 5'
    >>> problem(COUNTER_NAME, "Loket\\x005").message_en
    'Counter name: contains the control character U+0000, which is not allowed'
"""
from __future__ import annotations

import functools
import math
import unicodedata
from dataclasses import dataclass

#: Combining marks allowed on one base character.
MAX_COMBINING = 3
#: Invisible format characters that are allowed: the zero-width (non-)joiner,
#: which some scripts and emoji sequences need.
ALLOWED_FORMAT = frozenset("\u200c\u200d")
_WHITESPACE_CC = frozenset("\t\n\r\x0b\x0c")


@dataclass(frozen=True)
class TextRule:
    """What one kind of text may be: its name for messages, its length and its use."""

    key: str
    label_id: str
    label_en: str
    max_len: int
    required: bool = True
    printed: bool = False   # printed on the paper ticket (ASCII only after normalisation)
    charset: str | None = None  # when set, the only characters allowed (besides space)


FACILITY = TextRule("facility", "Nama instansi", "Facility name", 120, printed=True)
SERVICE_NAME_ID = TextRule("service_name_id", "Nama layanan (Indonesia)",
                           "Service name (Indonesian)", 80, printed=True)
SERVICE_NAME_EN = TextRule("service_name_en", "Nama layanan (Inggris)",
                           "Service name (English)", 80)
COUNTER_NAME = TextRule("counter_name", "Nama loket", "Counter name", 60)
REQUIREMENT_ID = TextRule("requirement_id", "Persyaratan (Indonesia)",
                          "Requirement (Indonesian)", 200, printed=True)
REQUIREMENT_EN = TextRule("requirement_en", "Persyaratan (Inggris)", "Requirement (English)", 200)
FLOW_STEP = TextRule("flow_step", "Langkah alur pelayanan", "Service flow step", 200)
RUNNING_TEXT = TextRule("running_text", "Teks berjalan", "Running text", 1000, required=False)
REASON = TextRule("reason", "Alasan", "Reason", 200, required=False)
WHATSAPP = TextRule("whatsapp", "Kontak WhatsApp", "WhatsApp contact", 24, required=False,
                    printed=True, charset="0123456789+-()")
# The optional free text of the satisfaction survey (IKM): a complaint or a suggestion.
SURVEY_COMMENT = TextRule("survey_comment", "Pengaduan atau saran", "Complaint or suggestion",
                          1000, required=False)

#: Items in one service's requirements list or flow.
MAX_ITEMS = 20
#: Services on one site: a service is named by one capital letter.
MAX_SERVICES = 26
#: Counters on one site; with every text at its limit the board snapshot still fits its payload.
MAX_COUNTERS = 64

RULES: tuple[TextRule, ...] = (FACILITY, SERVICE_NAME_ID, SERVICE_NAME_EN, COUNTER_NAME,
                               REQUIREMENT_ID, REQUIREMENT_EN, FLOW_STEP, RUNNING_TEXT, REASON,
                               WHATSAPP, SURVEY_COMMENT)


class TextError(ValueError):
    """A text that breaks its rule; ``message_id`` and ``message_en`` say why, for a person."""

    def __init__(self, rule: TextRule, problem_id: str, problem_en: str):
        self.rule = rule
        self.message_id = f"{rule.label_id}: {problem_id}"
        self.message_en = f"{rule.label_en}: {problem_en}"
        super().__init__(f"{self.message_id} / {self.message_en}")


def _code(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def _refusal(ch: str) -> tuple[str, str] | None:
    """Why ``ch`` may not appear in any text (Indonesian, English), or None."""
    cat = unicodedata.category(ch)
    if cat == "Cc":
        return (f"mengandung karakter kendali {_code(ch)} yang tidak diizinkan",
                f"contains the control character {_code(ch)}, which is not allowed")
    if cat == "Cs":
        return (f"mengandung karakter rusak {_code(ch)}", f"contains a broken character {_code(ch)}")
    if cat == "Cf" and ch not in ALLOWED_FORMAT:
        return (f"mengandung karakter tak terlihat {_code(ch)} (mis. pembalik arah teks)",
                f"contains the invisible character {_code(ch)} (e.g. a text-direction override)")
    if cat in ("Co", "Cn"):
        return (f"mengandung karakter {_code(ch)} yang tidak dikenal",
                f"contains the unknown character {_code(ch)}")
    return None


def refused(ch: str) -> bool:
    """True when ``ch`` may appear in no text at all (a control, a NUL, a bidi override ...).

    Whitespace other than a space is not refused here: :func:`clean` folds it.
    """
    return not _is_space(ch) and _refusal(ch) is not None


def _is_space(ch: str) -> bool:
    return ch in _WHITESPACE_CC or unicodedata.category(ch) in ("Zs", "Zl", "Zp")


def _fold(text: str) -> str:
    """NFC, every whitespace run as one space, ends trimmed."""
    text = unicodedata.normalize("NFC", text)
    out, space = [], False
    for ch in text:
        if _is_space(ch):
            space = True
            continue
        if space and out:
            out.append(" ")
        space = False
        out.append(ch)
    return "".join(out)


def clean(rule: TextRule, value) -> str:
    """The normalised text, or :class:`TextError` saying what is wrong (ID and EN)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise TextError(rule, "harus berupa teks", "must be text")
    for ch in value:
        if _is_space(ch):
            continue
        why = _refusal(ch)
        if why:
            raise TextError(rule, *why)
    text = _fold(value)
    if rule.required and not text:
        raise TextError(rule, "wajib diisi", "must not be empty")
    if len(text) > rule.max_len:
        raise TextError(rule, f"paling banyak {rule.max_len} karakter (sekarang {len(text)})",
                        f"at most {rule.max_len} characters (now {len(text)})")
    run = 0
    for ch in text:
        run = run + 1 if unicodedata.combining(ch) else 0
        if run > MAX_COMBINING:
            raise TextError(rule, f"terlalu banyak tanda diakritik pada satu huruf (paling banyak {MAX_COMBINING})",
                            f"too many accents on one letter (at most {MAX_COMBINING})")
    if rule.charset is not None:
        bad = next((ch for ch in text if ch != " " and ch not in rule.charset), None)
        if bad is not None:
            raise TextError(rule, f"hanya boleh berisi angka dan {' '.join(rule.charset[10:])}, bukan {bad!r}",
                            f"may only hold digits and {' '.join(rule.charset[10:])}, not {bad!r}")
    if rule.printed:
        bad = next((ch for ch in text if not printable(ch)), None)
        if bad is not None:
            raise TextError(rule, f"karakter {bad!r} tidak dapat dicetak printer tiket",
                            f"the ticket printer cannot print the character {bad!r}")
    return text


def problem(rule: TextRule, value) -> TextError | None:
    """The error :func:`clean` would raise, or None."""
    try:
        clean(rule, value)
    except TextError as exc:
        return exc
    return None


# -- drawing what came from elsewhere -----------------------------------------

def displayable(value, limit: int | None = None) -> str:
    """``value`` made safe to draw: never raises, whatever it is given.

    Characters :func:`clean` refuses are dropped, whitespace is folded, piled-up
    combining marks are thinned, and a text over ``limit`` characters ends in
    an ellipsis. A text that passes :func:`clean` comes back unchanged.
    """
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return _displayable(text, limit)


@functools.lru_cache(maxsize=512)
def _displayable(text: str, limit: int | None) -> str:
    # Cached: the board asks again for the same few strings on every frame.
    kept, run = [], 0
    for ch in text:
        if not _is_space(ch) and _refusal(ch):
            continue
        run = run + 1 if unicodedata.combining(ch) else 0
        if run <= MAX_COMBINING:
            kept.append(ch)
    text = _fold("".join(kept))
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)].rstrip() + "\u2026"
    return text


# -- the paper ticket ----------------------------------------------------------

# Typographic quotes and dashes make python-escpos switch code page, which cheap
# 58 mm clones print as garbage; the ticket therefore prints plain ASCII only.
# Beyond those, each character is written the way a person would write it by hand
# in ASCII ("½" -> "1/2" through its compatibility form and the fraction slash,
# "✓" -> "v", "×" -> "x"), never as "?": a "?" on paper reads as a question.
_ASCII_MAP = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"',
    "\u201e": '"', "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2026": "...",
    "\u00a0": " ", "\u2022": "*", "\u00b7": "*", "\u2192": "->", "\u2190": "<-",
    "\u2044": "/", "\u2215": "/", "\u2713": "v", "\u2714": "v", "\u2611": "[v]", "\u2610": "[ ]",
    "\u2717": "x", "\u2718": "x", "\u00d7": "x", "\u00f7": "/", "\u00b1": "+/-",
    "\u2264": "<=", "\u2265": ">=", "\u2260": "!=", "\u00b0": " derajat ", "\u2116": "No.",
    "\u00a9": "(c)", "\u00ae": "(R)", "\u2122": "(TM)", "\u20ac": "EUR", "\u00a3": "GBP",
    "\u00a5": "JPY", "\u00df": "ss", "\u00e6": "ae", "\u00c6": "AE", "\u0153": "oe", "\u0152": "OE",
    "\u00f8": "o", "\u00d8": "O", "\u0111": "d", "\u0110": "D", "\u0142": "l", "\u0141": "L",
    "\u00fe": "th", "\u00de": "Th", "\u00f0": "d", "\u0131": "i", "\u00ab": '"', "\u00bb": '"',
    "\u2039": "'", "\u203a": "'", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2015": "-",
    "\u00ad": "", "\u200b": "", "\u2032": "'", "\u2033": '"', "\u00bf": "?", "\u00a1": "!",
})


@functools.lru_cache(maxsize=4096)
def _ascii_char(ch: str) -> str | None:
    """``ch`` in printable ASCII ("" for a mark or a line break), or None when it has none."""
    out = []
    for c in unicodedata.normalize("NFKD", ch.translate(_ASCII_MAP)):
        if unicodedata.combining(c) or c in "\r\n\t":
            continue
        if not " " <= c <= "~":
            c = c.translate(_ASCII_MAP)   # e.g. the fraction slash NFKD makes of "½"
            if not all(" " <= x <= "~" for x in c):
                return None
        out.append(c)
    return "".join(out)


def printable(ch: str) -> bool:
    """True when the ticket printer can show ``ch`` (as itself or transliterated)."""
    return _ascii_char(ch) is not None


def to_ascii(text: str) -> str:
    """Printable ASCII only: accents dropped, quotes/dashes straightened, symbols written
    out ("½" -> "1/2", "✓" -> "v"); a character with no ASCII form (an emoji) is left out,
    never printed as "?" (the site file's printed texts refuse such characters)."""
    return "".join(_ascii_char(ch) or "" for ch in str(text))


def wait_minutes(low_s: int | None, high_s: int | None) -> tuple[int, int] | None:
    """A wait estimate's range as a person reads it, in whole minutes: the lower end rounded
    down and the upper end rounded up (to 5 minutes once the upper end passes 15), so the
    range never claims more than the estimate; None when there is no estimate.

        >>> wait_minutes(1200, 2100)
        (20, 35)
    """
    if low_s is None or high_s is None:
        return None
    low, high = max(0, int(low_s)) / 60, max(0, int(high_s)) / 60
    step = 5 if high > 15 else 1
    a = int(low // step) * step
    b = max(a + step, -(-math.ceil(high) // step) * step)
    return a, b


def markdown_table() -> str:
    """The table of every rule, as docs/PROTOCOL.md shows it (a test keeps the two equal)."""
    rows = ["| text | at most (characters) | required | printed on the ticket |",
            "| --- | --- | --- | --- |"]
    for r in RULES:
        rows.append(f"| {r.label_en} (`{r.key}`) | {r.max_len} | {'yes' if r.required else 'no'} "
                    f"| {'yes' if r.printed else 'no'} |")
    return "\n".join(rows) + "\n"
