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
           "Written by `lalopa bench` (server/bench.py); do not edit by hand. Re-run with",
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
