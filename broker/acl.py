"""Who may publish and subscribe where: Mosquitto ACL blocks, one per device.

Each device logs in with its own user. Its ACL block grants exactly the
topics of its role (see ``docs/PROTOCOL.md`` "Access rules"): a counter box
writes only its own counter's command topic and its presence and reads its
own state; a display only reads; a kiosk writes its printer status and its
presence and reads the summary; the server reads and writes the site.

The ACL file is a list of ``user`` blocks, each introduced by a
``# lalopa-device`` comment. :func:`upsert_block` replaces a user's block or
appends it, so re-running ``add-device`` never duplicates an entry.

Example::

    >>> spec = DeviceSpec(role="button", device="box-05", site="dinkes-claim", counter=5)
    >>> print(render_block(spec).splitlines()[1])
    user box-05
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .protocol import ID_RE, ROLES, Topics

MARK = "# lalopa-device"


class AclError(ValueError):
    """A device description that cannot become a safe ACL entry."""


@dataclass(frozen=True)
class DeviceSpec:
    """One device that logs in to the broker with its own user."""

    role: str
    device: str
    site: str
    counter: int | None = None

    @property
    def username(self) -> str:
        # The device id is unique per site and becomes the MQTT user name.
        return self.device

    @property
    def doctor_username(self) -> str:
        """The user ``lalopa doctor`` logs in as to prove the device's password.

        The broker uses each user name as the client id, so a doctor logging in
        as the device itself would take over (and cut) the running device's
        session and fire its last will: an "offline" alert on the dashboard.
        This second user has the same password, its own client id and no ACL
        block, so it can read and write nothing. '@' never occurs in a device id.
        """
        return doctor_username(self.device)

    def check(self) -> "DeviceSpec":
        if self.role not in ROLES:
            raise AclError(f"peran tidak dikenal / unknown role {self.role!r}: use one of {list(ROLES)}")
        if not ID_RE.match(self.device or ""):
            raise AclError(f"ID perangkat tidak valid / invalid device id {self.device!r}: "
                           "1-64 letters, digits, '.', '_', ':' or '-'")
        try:
            Topics(self.site)
        except ValueError:
            raise AclError(f"ID situs tidak valid / invalid site id {self.site!r}: "
                           "lower-case letters, digits and '-'") from None
        if self.role in ("button", "panel"):
            if not isinstance(self.counter, int) or not 1 <= self.counter <= 999:
                raise AclError(f"{self.role} perlu nomor loket / needs --counter N (1..999)")
        elif self.counter is not None:
            raise AclError(f"--counter hanya untuk button dan panel / only for button and panel, "
                           f"not {self.role}")
        return self


def doctor_username(device: str) -> str:
    """See :attr:`DeviceSpec.doctor_username`."""
    return f"{device}@doctor"


def rules(spec: DeviceSpec) -> list[tuple[str, str]]:
    """``(access, topic)`` pairs for one device, per its role."""
    spec.check()
    t = Topics(spec.site)
    own = [("write", t.presence(spec.role, spec.device))]
    if spec.role == "server":
        return [("readwrite", f"{t.base}/#")]
    if spec.role == "button":
        return own + [("write", t.command(spec.counter)), ("read", t.counter_state(spec.counter)),
                      ("write", t.smiley(spec.counter))]   # its smiley pad, if one is fitted
    if spec.role == "panel":
        return own + [("write", t.command(spec.counter)), ("read", t.counter_state(spec.counter)),
                      ("read", t.summary)]
    if spec.role == "display":
        return own + [("read", t.board), ("read", t.call), ("read", t.summary),
                      ("read", t.all_counter_states)]
    # kiosk
    return own + [("write", t.printer(spec.device)), ("read", t.summary)]


def render_block(spec: DeviceSpec) -> str:
    """The ACL text for one device, ending with a newline."""
    head = f"{MARK} role={spec.role} site={spec.site}"
    if spec.counter is not None:
        head += f" counter={spec.counter}"
    lines = [head, f"user {spec.username}"]
    lines += [f"topic {access} {topic}" for access, topic in rules(spec)]
    return "\n".join(lines) + "\n"


def _split_blocks(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Preamble (anonymous section) and ``(username, block text)`` pairs."""
    parts = re.split(rf"(?m)^(?={re.escape(MARK)})", text)
    preamble, blocks = parts[0], []
    for part in parts[1:]:
        match = re.search(r"(?m)^user (\S+)$", part)
        blocks.append((match.group(1) if match else "", part.rstrip("\n") + "\n"))
    return preamble, blocks


def upsert_block(text: str, spec: DeviceSpec) -> str:
    """ACL file text with this device's block replaced (or appended)."""
    preamble, blocks = _split_blocks(text)
    new = render_block(spec)
    out, placed = [], False
    for user, block in blocks:
        if user == spec.username:
            if not placed:
                out.append(new)
                placed = True
            continue
        out.append(block)
    if not placed:
        out.append(new)
    if not preamble.strip():
        # Lines before the first 'user' apply to anonymous clients: grant none.
        preamble = "# LALOPA broker ACL - managed by 'lalopa broker add-device'.\n"
    return preamble.rstrip("\n") + "\n\n" + "\n".join(out)


def upsert_file(path: Path, spec: DeviceSpec) -> None:
    """Update the ACL file on disk, creating it (mode 0640) if needed."""
    path = Path(path)
    old = path.read_text() if path.exists() else ""
    path.write_text(upsert_block(old, spec))
    path.chmod(0o640)
