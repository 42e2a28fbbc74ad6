"""The deploy guide as a script: its shell blocks, where each runs, what is filled in.

``docs/DEPLOY.md`` marks every shell block for the technician in two ways a
person sees at once:

* the block's first line says where to type it: ``# on: server``,
  ``# on: kiosk``, ``# on: board``, ``# on: each button box`` or
  ``# on: every device`` (kiosk, board and every button box), or typed on
  the server on a device's behalf: ``# on: server, for the kiosk``,
  ``# on: server, for the board``, ``# on: server, once per button box``;
* the few values a technician fills in are shell variables at the top of the
  block, each marked ``# fill in: ...``, e.g.
  ``SERVER=192.168.1.10   # fill in: the server's address``.

The rehearsal runs each block on the host(s) it names, after replacing only
the marked values with that host's own (its address, its device name).
Everything else runs exactly as written.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "DEPLOY.md"
SHELL_LANGS = ("sh", "bash", "shell", "console")
# Where a block runs, as written in the guide -> (the kinds of host it runs on, the
# kinds of host whose values fill it in). "server, once per button box" runs on the
# server once for each box, with that box's name and counter filled in.
TARGETS = {
    "server": (("server",), ("server",)),
    "kiosk": (("kiosk",), ("kiosk",)),
    "board": (("board",), ("board",)),
    "each button box": (("box",), ("box",)),
    "every device": (("kiosk", "board", "box"), ("kiosk", "board", "box")),
    "server, for the kiosk": (("server",), ("kiosk",)),
    "server, for the board": (("server",), ("board",)),
    "server, once per button box": (("server",), ("box",)),
}
_FENCE = re.compile(r"^```([\w-]*)\s*$")
_ON = re.compile(r"^#\s*on:\s*(?P<target>.+?)\s*$")
_FILL = re.compile(r"^(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>\S+)(?P<gap>\s+)#\s*fill in\b.*$")


class GuideError(ValueError):
    """The guide breaks its own convention (says which line and why)."""


@dataclass
class Block:
    """One shell block of the guide."""

    line: int                       # 1-based line of the opening fence
    target: str                     # as written after "# on:"
    text: str                       # the block as written (without the fences)
    fills: dict[str, str] = field(default_factory=dict)   # NAME -> the guide's example

    @property
    def run_on(self) -> tuple[str, ...]:
        return TARGETS[self.target][0]

    @property
    def values_from(self) -> tuple[str, ...]:
        return TARGETS[self.target][1]

    def for_host(self, values: dict[str, str]) -> str:
        """The block with only its marked values replaced by ``values``."""
        missing = sorted(set(self.fills) - set(values))
        if missing:
            raise GuideError(f"DEPLOY.md line {self.line}: no value for {', '.join(missing)}")
        out = []
        for ln in self.text.splitlines():
            m = _FILL.match(ln)
            if m:
                ln = f"{m['name']}={values[m['name']]}{m['gap']}" + ln[m.end('gap'):]
            out.append(ln)
        return "\n".join(out) + "\n"


def blocks(text: str) -> list[Block]:
    """Every shell block of a Markdown text, in order; a block without a target is an error."""
    found: list[Block] = []
    lang, start, body = None, 0, []
    for no, ln in enumerate(text.splitlines(), 1):
        m = _FENCE.match(ln.strip()) if ln.lstrip().startswith("```") else None
        if lang is None:
            if m is not None:
                lang, start, body = m[1].lower(), no, []
            continue
        if ln.strip() == "```":
            if lang in SHELL_LANGS:
                found.append(_block(start, body))
            lang = None
            continue
        body.append(ln)
    if lang is not None:
        raise GuideError(f"DEPLOY.md line {start}: code block never closed")
    return found


def _block(start: int, body: list[str]) -> Block:
    lines = [ln for ln in body if ln.strip()]
    m = _ON.match(lines[0].strip()) if lines else None
    if m is None:
        raise GuideError(f"DEPLOY.md line {start}: a shell block must start with '# on: WHERE' "
                         f"(one of: {', '.join(TARGETS)})")
    if m["target"] not in TARGETS:
        raise GuideError(f"DEPLOY.md line {start}: unknown place {m['target']!r} "
                         f"(one of: {', '.join(TARGETS)})")
    fills = {}
    for ln in body:
        f = _FILL.match(ln)
        if f:
            fills[f["name"]] = f["value"]
    return Block(line=start, target=m["target"], text="\n".join(body), fills=fills)


def load(path: Path = GUIDE) -> list[Block]:
    return blocks(path.read_text(encoding="utf-8"))
