"""docs/BENCHMARKS.md: every figure beside its target, PASS or MISS, and why."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Row:
    """One measured figure with its target; ``ok`` None means no target (informational)."""

    what: str
    value: str
    target: str = "—"
    ok: bool | None = None
    why: str = ""

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "MISS", None: "info"}[self.ok]


@dataclass
class Section:
    title: str
    method: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def render(facts: dict[str, str], sections: list[Section], mode: str, runtime_s: float) -> str:
    out = ["# LALOPA benchmarks", "",
           "Written by `lalopa bench` (server/devtools/bench.py); do not edit by hand. Re-run with",
           "`lalopa bench --out docs/BENCHMARKS.md` (about 2–4 minutes) or `--quick`.", "",
           f"Run mode: **{mode}**, total run time {runtime_s:.0f} s.", "", "## Machine", "",
           "| | |", "| --- | --- |"]
    out += [f"| {k} | {v} |" for k, v in facts.items()]
    out += ["", "The machine is shared and noisy: figures are medians/percentiles of one run,",
            "not guarantees. A Raspberry Pi 4 is roughly 3–5× slower per core than this CPU.", ""]
    misses = [(s.title, r) for s in sections for r in s.rows if r.ok is False]
    out += ["## Summary", ""]
    if misses:
        out += ["Missed targets:", ""]
        out += [f"- **{t}: {r.what}** = {r.value} (target {r.target}). {r.why}" for t, r in misses]
    else:
        out += ["Every measured target passed."]
    unmeasured = [s.title for s in sections if s.error]
    if unmeasured:
        out += ["", "Not measured: " + "; ".join(f"{s.title} ({s.error})" for s in sections if s.error)]
    out.append("")
    for s in sections:
        out += _section(s)
    out += PROOF
    return "\n".join(out) + "\n"


def _section(s: Section) -> list[str]:
    out = [f"## {s.title}", "", s.method, ""]
    if s.error:
        out += [f"**Not measured:** {s.error}", ""]
    if s.rows:
        out += ["| figure | value | target | result |", "| --- | --- | --- | --- |"]
        out += [f"| {r.what} | {r.value} | {r.target} | {r.verdict} |" for r in s.rows]
        out.append("")
        whys = [f"- {r.what}: {r.why}" for r in s.rows if r.ok is False and r.why]
        if whys:
            out += ["Why missed:", "", *whys, ""]
    if s.notes:
        out += [f"- {n}" for n in s.notes] + [""]
    return out


def merge_section(text: str, sec: Section) -> str:
    """``text`` with the section titled ``sec.title`` replaced (or put before the proof table).

    Lets one part (``lalopa bench --city``) be re-run without re-running the others."""
    body = "\n".join(_section(sec))
    head = f"## {sec.title}\n"
    if head in text:
        start = text.index(head)
        nxt = text.find("\n## ", start + len(head))
        return text[:start] + body + ("\n" + text[nxt + 1:] if nxt != -1 else "\n")
    anchor = PROOF[0] + "\n"
    if anchor in text:
        i = text.index(anchor)
        return text[:i] + body + "\n" + text[i:]
    return text.rstrip("\n") + "\n\n" + body + "\n"


def refresh_summary(text: str) -> str:
    """``text`` with its "## Summary" rebuilt from the MISS rows of every section it holds.

    After a section was merged (``--merge``, ``--city``) the summary must name that
    section's misses too, with the reason written under the section's "Why missed"."""
    head = "## Summary\n"
    if head not in text:
        return text
    misses = []
    for block in text.split("\n## ")[1:]:
        title, _, body = block.partition("\n")
        if title.strip() == "Summary":
            continue
        whys = {}
        for line in body.splitlines():
            if line.startswith("- ") and ": " in line:
                what, _, why = line[2:].partition(": ")
                whys.setdefault(what, why)
        for line in body.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if line.startswith("| ") and len(cells) == 4 and cells[3] == "MISS":
                what, value, target = cells[:3]
                why = whys.get(what, "")
                misses.append(f"- **{title.strip()}: {what}** = {value} (target {target}). {why}".rstrip())
    lines = ["## Summary", ""]
    lines += ["Missed targets:", "", *misses] if misses else ["Every measured target passed."]
    start = text.index(head)
    nxt = text.find("\n## ", start + len(head))
    rest = text[nxt + 1:] if nxt != -1 else ""
    # keep a "Not measured" line of the summary, if any
    old = text[start:nxt if nxt != -1 else len(text)]
    kept = [ln for ln in old.splitlines() if ln.startswith("Not measured:")]
    if kept:
        lines += ["", *kept]
    return text[:start] + "\n".join(lines) + "\n\n" + rest


# What the fault and hostile-input suites prove (they run in the normal test suite).
PROOF = [
    "## Faults and hostile input (test suite, not timed here)", "",
    "| file | what it proves |", "| --- | --- |",
    "| tests/faults/test_server_sigkill.py | `lalopa server` SIGKILLed during HTTP issues and MQTT "
    "presses, restarted, presses re-sent: no acknowledged ticket lost, numbers unique and gap-free, "
    "no ticket called twice, one call per seq |",
    "| tests/faults/test_broker_restart.py | Mosquitto restarts: bridge, display and box reconnect, "
    "the board is republished and right again, the next press calls once |",
    "| tests/faults/test_printer_vanishes.py | a network printer vanishing before/inside a job: the "
    "ticket stays valid, the kiosk reports the job failed (never printed) and reprint prints it "
    "whole |",
    "| tests/faults/test_clock_jumps.py | clock back an hour and forward a day: no number reused, "
    "no day reopened, retries across a jump return the same ticket |",
    "| tests/faults/test_disk_full.py | a full database (`PRAGMA max_page_count`): `storage_full` "
    "(ID+EN) over HTTP and on the kiosk screen, no row changed, integrity_check ok, recovery |",
    "| tests/fuzz/test_protocol_fuzz.py | every bus payload parser: only ProtocolError, samples "
    "round-trip, oversized refused |",
    "| tests/fuzz/test_http_fuzz.py, test_all_routes_fuzz.py | every route with random bodies, "
    "types, bytes, headers and tokens: never 5xx, never a change on 4xx |",
    "| tests/fuzz/test_bus_hostile.py | oversized, garbage, wrong-counter, stale, retained and "
    "replayed commands on the real broker: refused and counted, nothing changes |",
    "| tests/fuzz/test_rate_limit.py, test_kiosk_taps.py | per-kiosk limit (429 `rate_limited`, "
    "counted for the supervisor), and 30 taps = one ticket on the real kiosk app |",
    "",
]
