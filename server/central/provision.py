"""Provisioning the city link: the central broker's config, one credential per site, a site's bridge.

At the centre, ``lalopa central add-site`` creates the site's broker user and
its ACL block: the site may write only its own event batches, live state and
bridge notification, and read only its own ``city/control/#``. At the site,
``lalopa central join`` writes the bridge section into the site's Mosquitto
config and the uplink's local broker user.

Example::

    >>> print(site_acl_block("pkm-sukajadi").splitlines()[1])
    user pkm-sukajadi
"""
from __future__ import annotations

import re
from pathlib import Path

from broker.admin import log_dest_lines, set_password
from broker.protocol import CITY_LIVE_PATTERNS, ROOT, Topics, city_topic

MARK = "# lalopa-city"
CENTRAL_USER = "central"
BRIDGE_NAME = "lalopa-city"
#: The site's broker keeps this many messages for the bridge while the link is
#: down. The uplink's window (server/central/uplink.py) stays below it, so the
#: queue never overflows because of the event log.
BRIDGE_QUEUE = 1000


class ProvisionError(ValueError):
    """A site or address that cannot become a safe config."""


def check_site(site: str) -> str:
    try:
        Topics(site)
    except ValueError:
        raise ProvisionError(f"ID situs tidak valid / invalid site id {site!r}: "
                             "huruf kecil, angka dan '-' / lower-case letters, digits and '-'") from None
    return site


def site_rules(site: str) -> list[tuple[str, str]]:
    """What a site's credential may do on the central broker: its own prefix only."""
    base = Topics(check_site(site)).base
    writes = [city_topic(site, "batch"), city_topic(site, "ikm"), city_topic(site, "link")]
    writes += [f"{base}/{p}" for p in CITY_LIVE_PATTERNS]
    return [("write", t) for t in writes] + [("read", city_topic(site, "control/#"))]


def site_acl_block(site: str) -> str:
    lines = [f"{MARK} site={site}", f"user {site}"]
    lines += [f"topic {access} {topic}" for access, topic in site_rules(site)]
    return "\n".join(lines) + "\n"


def central_acl_block() -> str:
    """The central role itself reads every site and answers each one."""
    return "\n".join([f"{MARK} central", f"user {CENTRAL_USER}", f"topic readwrite {ROOT}/#"]) + "\n"


def upsert_block(text: str, user: str, block: str) -> str:
    """ACL text with ``user``'s block replaced or appended (re-running never duplicates)."""
    parts = re.split(rf"(?m)^(?={re.escape(MARK)})", text)
    head, out, placed = parts[0], [], False
    for part in parts[1:]:
        found = re.search(r"(?m)^user (\S+)$", part)
        if found and found.group(1) == user:
            if not placed:
                out.append(block)
                placed = True
            continue
        out.append(part.rstrip("\n") + "\n")
    if not placed:
        out.append(block)
    if not head.strip():
        head = "# LALOPA central broker ACL - managed by 'lalopa central add-site'.\n"
    return head.rstrip("\n") + "\n\n" + "\n".join(out)


def _upsert_file(path: Path, user: str, block: str) -> None:
    path = Path(path)
    path.write_text(upsert_block(path.read_text() if path.exists() else "", user, block))
    path.chmod(0o640)


def add_site(site: str, passwd_file: Path, acl_file: Path, password: str) -> None:
    """Create or reset a site's credential and ACL block on the central broker."""
    set_password(Path(passwd_file), check_site(site), password)
    _upsert_file(acl_file, site, site_acl_block(site))


def add_central_user(passwd_file: Path, acl_file: Path, password: str) -> None:
    set_password(Path(passwd_file), CENTRAL_USER, password)
    _upsert_file(acl_file, CENTRAL_USER, central_acl_block())


UPLINK_USER = "uplink"


def uplink_rules(site: str) -> list[tuple[str, str]]:
    """What the uplink may do on its own site's broker: send the log and survey figures, say
    it is there, hear the centre and the bridge. Nothing else (it cannot call or issue)."""
    base = Topics(check_site(site)).base
    return [("write", city_topic(site, "batch")), ("write", city_topic(site, "ikm")),
            ("write", f"{base}/presence/server/{UPLINK_USER}"),
            ("read", city_topic(site, "control/#")), ("read", city_topic(site, "link"))]


def add_uplink(site: str, passwd_file: Path, acl_file: Path, password: str) -> None:
    """The uplink's user on the site's broker, with its own narrow ACL block.

    The block carries the site broker's device marker, so ``lalopa broker
    add-device`` keeps it as it is when it rewrites the file."""
    from broker.acl import MARK as DEVICE_MARK
    set_password(Path(passwd_file), UPLINK_USER, password)
    block = "\n".join([f"{DEVICE_MARK} role=uplink site={site}", f"user {UPLINK_USER}"]
                      + [f"topic {a} {t}" for a, t in uplink_rules(site)]) + "\n"
    path = Path(acl_file)
    text = path.read_text() if path.exists() else ""
    parts = re.split(rf"(?m)^(?={re.escape(DEVICE_MARK)})", text)
    kept = [p.rstrip("\n") + "\n" for p in parts[1:]
            if not re.search(rf"(?m)^user {UPLINK_USER}$", p)]
    head = parts[0] if parts[0].strip() else "# LALOPA broker ACL - managed by 'lalopa broker add-device'.\n"
    path.write_text(head.rstrip("\n") + "\n\n" + "\n".join(kept + [block]))
    path.chmod(0o640)


def render_central(*, tls_port: int, bind: str, local_port: int, passwd_file: str, acl_file: str,
                   cafile: str, certfile: str, keyfile: str, persistence_dir: str,
                   log_dest=("syslog",)) -> str:
    """The central Mosquitto: TLS for the sites, loopback for ``lalopa central serve``."""
    auth = f"allow_anonymous false\npassword_file {passwd_file}\nacl_file {acl_file}\n"
    return "\n".join([
        "# LALOPA central broker - written by 'lalopa central broker-config'.",
        "per_listener_settings true",
        "# Sites' bridges, over TLS only.",
        f"listener {tls_port} {bind}", auth,
        f"cafile {cafile}", f"certfile {certfile}", f"keyfile {keyfile}", "tls_version tlsv1.2",
        # A site's client id is its user name: a leaked credential of one site
        # cannot take over another site's bridge session.
        "use_username_as_clientid true",
        "# The central role, on loopback.",
        f"listener {local_port} 127.0.0.1", auth,
        "persistence true", f"persistence_location {persistence_dir.rstrip('/')}/",
        "autosave_interval 60",
        # The central role's own session holds what arrives while it restarts:
        # 80 sites' catch-up after an outage fits.
        "max_queued_messages 20000",
        "max_inflight_messages 100",
        "max_packet_size 1048576",
        "set_tcp_nodelay true",
        log_dest_lines(tuple(log_dest)),
    ]) + "\n"


def render_bridge(*, site: str, host: str, port: int, password: str, cafile: str,
                  insecure: bool = False) -> str:
    """The bridge section of a site's Mosquitto config (``conf.d/lalopa-city.conf``).

    Persistent on both sides (``cleansession false``, ``local_cleansession
    false``): while the link is down the site's broker queues the batches and
    live state for the bridge, and sends them when it returns. ``insecure``
    skips the host-name check of the centre's certificate (tests on loopback
    only; the CA is still checked)."""
    base = Topics(check_site(site)).base
    if not re.match(r"^[A-Za-z0-9.:-]+$", host or ""):
        raise ProvisionError(f"alamat pusat tidak valid / invalid centre host {host!r}")
    lines = [
        f"# LALOPA city link of site {site} - written by 'lalopa central join'.",
        f"connection {BRIDGE_NAME}",
        f"address {host}:{int(port)}",
        "bridge_protocol_version mqttv311",
        f"remote_clientid {site}",
        f"remote_username {site}",
        f"remote_password {password}",
        f"local_clientid {BRIDGE_NAME}-{site}",
        "cleansession false",
        "local_cleansession false",
        "try_private true",
        "notifications true",
        f"notification_topic {city_topic(site, 'link')}",
        "keepalive_interval 15",
        # Back off from 1 s up to 10 s: the link is back within seconds of the network.
        "restart_timeout 1 10",
        f"bridge_cafile {cafile}",
        "bridge_tls_version tlsv1.2",
    ]
    if insecure:
        lines.append("bridge_insecure true")
    lines.append(f"topic {base}/city/batch out 1")
    lines.append(f"topic {base}/city/ikm out 1")
    lines += [f"topic {base}/{p} out 1" for p in CITY_LIVE_PATTERNS]
    lines.append(f"topic {base}/city/control/# in 1")
    return "\n".join(lines) + "\n"
