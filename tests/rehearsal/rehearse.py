"""``make rehearsal``: a whole office on booted Debian hosts, set up by docs/DEPLOY.md.

One cached Bookworm image (mmdebstrap) is booted six times with systemd-nspawn
on a private bridge: server, kiosk, board, two button boxes and a network
printer. The guide's shell blocks run on the hosts they name, as written
(only the values the guide marks ``# fill in`` are replaced). Then the booted
site is checked: units, ``lalopa doctor``, a ticket from the kiosk's screen to
the printer, a box press, the board's call and voice, reboots, a killed
server, a hung server. Any failure stops the run with a message saying what
and where; every container, mount and the bridge are removed at the end,
whatever happened.

    sudo python3 tests/rehearsal/rehearse.py [--shots]     # or: make rehearsal [SHOTS=1]

Only three things differ from a real office, each installed after the guide
ran and named here: the screens draw headless (sway's headless backend), the
boxes' buttons are gpiozero mock pins pressed from outside, and the board's
speakers are a PulseAudio null sink recorded to a file.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import shlex
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import guide  # noqa: E402
import rig  # noqa: E402
from rig import BY_NAME, HOSTS, RehearsalFailed, log, run_in, wait_until  # noqa: E402

VENV = "/opt/lalopa/venv"
LALOPA = f"{VENV}/bin/lalopa"
PY = f"{VENV}/bin/python"
SHOTS_DIR = rig.REPO / "docs" / "rehearsal"
HELPERS = rig.HELPERS_IN_HOST
PRINTS = "/var/lib/rehearsal-printer/jobs.jsonl"
CALL_LOG = "/var/lib/lalopa/rehearsal-calls.jsonl"
PRESS_SOCKET = "/run/lalopa-button/press.sock"
SPEAKERS_FILE = "/var/lib/rehearsal-speakers/played.raw"   # 22050 Hz mono s16le
# Units that must be active on each kind of host once the guide is done.
UNITS = {
    "server": ["mosquitto.service", "lalopa-server.service", "lalopa-backup.timer"],
    "kiosk": ["lalopa-kiosk.service"],
    "board": ["lalopa-display.service"],
    "box": ["lalopa-button.service"],
    "printer": ["rehearsal-printer.service"],
}
UNITS["board"] += ["rehearsal-speakers.service", "rehearsal-recorder.service"]
SITE_ID = "dinkes-claim"
# What the office prepares on the USB stick before it starts (DEPLOY.md section 0):
# its site file (the example, open every day around the clock, so that the rehearsal
# can take tickets whenever CI runs) and the supervisor's first password.
ALWAYS_OPEN = "\n".join(f'{d} = ["00:00", "23:59"]' for d in
                        ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
DOCTOR_ROLE = {"server": "server", "kiosk": "kiosk", "board": "display", "box": "button"}


# -- the guide ------------------------------------------------------------------------

def fill_values(host: rig.Host) -> dict[str, str]:
    """The values a technician fills in, as this host's own."""
    values = {"SERVER": BY_NAME["server"].addr, "PRINTER": BY_NAME["printer"].addr,
              "STICK": rig.STICK, "LAN": f"{rig.NET}.0/24", "SITE": SITE_ID}
    if host.device:
        values["DEVICE"] = host.device
    if host.counter:
        values["COUNTER"] = str(host.counter)
    return values


def prepare_stick(stick: Path) -> None:
    """The office's own preparation: its site file and the supervisor's first password."""
    example = (rig.REPO / "server" / "sites" / "example.toml").read_text()
    lines, out, in_hours = example.splitlines(), [], False
    for ln in lines:
        if ln.startswith("["):
            in_hours = ln.split("#")[0].strip() == "[hours]"
            out.append(ln)
            if in_hours:
                out.append(ALWAYS_OPEN)
            continue
        if not in_hours:
            out.append(ln)
    site = "\n".join(out) + "\n"
    if f'site_id = "{SITE_ID}"' not in site:
        raise RehearsalFailed(f"the example site file no longer has site_id {SITE_ID!r}")
    (stick / "site.toml").write_text(site)
    (stick / "supervisor.password").write_text("rehearsal-supervisor-2026\n")


def run_guide() -> int:
    """Every shell block of DEPLOY.md, in order, on the host(s) it names."""
    blocks = guide.load()
    done = 0
    for block in blocks:
        places = [h for h in HOSTS if h.kind in block.run_on]
        per = [h for h in HOSTS if h.kind in block.values_from]
        jobs = [(place, source) for source in per
                for place in (places if block.run_on != block.values_from else [source])]
        log(f"DEPLOY.md line {block.line} ({block.target}): "
            f"{', '.join(sorted({p.name for p, _ in jobs}))}")
        # The same block on several hosts at once (as several technicians would);
        # a block run once per device on one host runs those one after another.
        parallel = len({p.name for p, _ in jobs}) == len(jobs)
        with ThreadPoolExecutor(max_workers=len(jobs) if parallel else 1) as pool:
            futures = [pool.submit(_run_block, block, place, source) for place, source in jobs]
            for f in futures:
                f.result()
        done += 1
    if done != len(blocks):
        raise RehearsalFailed(f"only {done} of {len(blocks)} DEPLOY.md blocks ran")
    log(f"DEPLOY.md: all {done} shell blocks ran")
    return done


def _run_block(block: guide.Block, place: rig.Host, source: rig.Host) -> None:
    script = block.for_host(fill_values(source))
    try:
        run_in(place, script, timeout=600)
    except RehearsalFailed as exc:
        raise RehearsalFailed(f"DEPLOY.md line {block.line} failed on {place.name}"
                              f" (values of {source.name}): {exc}") from None


# -- what differs from a real office (after the guide) ------------------------------

def hardware() -> None:
    """What each host has before the technician comes: its printer, screen, pins, speakers.

    The printer host is the office's network receipt printer. The screens draw
    headless (sway's headless backend instead of the Pi's HDMI output), the boxes'
    buttons are gpiozero mock pins pressed from outside, and the board's speakers
    are a PulseAudio null sink whose output is recorded to a file. Drop-ins for
    units the guide installs.
    """
    printer = BY_NAME["printer"]
    unit = (f"[Unit]\nDescription=Rehearsal network receipt printer (ESC/POS, port 9100)\n"
            f"[Service]\nExecStart=/opt/printer-venv/bin/python {HELPERS}/printer_host.py "
            f"--bind 0.0.0.0 --port 9100 --log {PRINTS}\nStateDirectory=rehearsal-printer\n"
            f"Restart=always\n[Install]\nWantedBy=multi-user.target\n")
    run_in(printer, f"""
python3 -m venv /opt/printer-venv
/opt/printer-venv/bin/pip install -q pillow zxing-cpp
printf '%s' {shlex.quote(unit)} > /etc/systemd/system/rehearsal-printer.service
systemctl daemon-reload
systemctl enable --now rehearsal-printer.service
""", timeout=300)
    headless = (rig.REPO / "systemd" / "lalopa-screen-headless.conf").read_text()
    for name, unit in (("kiosk", "lalopa-kiosk"), ("board", "lalopa-display")):
        run_in(BY_NAME[name], f"""
mkdir -p /etc/systemd/system/{unit}.service.d
printf '%s' {shlex.quote(headless)} > /etc/systemd/system/{unit}.service.d/headless.conf
""")
    # The board's speakers: a system-wide PulseAudio whose only sink is a null sink (it
    # keeps real time, as a sound card does), and a recorder of what that sink plays.
    speakers = (
        "[Unit]\nDescription=Rehearsal speakers (PulseAudio null sink)\n[Service]\n"
        "ExecStart=/usr/bin/pulseaudio --system --daemonize=no --exit-idle-time=-1 -n "
        "--disallow-module-loading --load=\"module-native-protocol-unix auth-anonymous=1\" "
        "--load=\"module-null-sink sink_name=speakers rate=22050 channels=1\"\n"
        "Restart=always\n"
        "[Install]\nWantedBy=multi-user.target\n")
    recorder = (
        "[Unit]\nDescription=Rehearsal: record what the speakers play\n"
        "After=rehearsal-speakers.service\nBindsTo=rehearsal-speakers.service\n[Service]\n"
        "ExecStartPre=/bin/sleep 1\n"
        f"ExecStart=/usr/bin/parecord --server=unix:/run/pulse/native --device=speakers.monitor "
        f"--raw --format=s16le --rate=22050 --channels=1 {SPEAKERS_FILE}\n"
        "StateDirectory=rehearsal-speakers\nRestart=always\n"
        "[Install]\nWantedBy=multi-user.target\n")
    run_in(BY_NAME["board"], f"""
printf 'default-server = unix:/run/pulse/native\\nautospawn = no\\n' > /etc/pulse/client.conf.d/rehearsal.conf
printf '%s' {shlex.quote(speakers)} > /etc/systemd/system/rehearsal-speakers.service
printf '%s' {shlex.quote(recorder)} > /etc/systemd/system/rehearsal-recorder.service
systemctl daemon-reload
systemctl enable --now rehearsal-speakers.service rehearsal-recorder.service
""")
    pins = (f"[Service]\nEnvironment=GPIOZERO_PIN_FACTORY=mock\nExecStart=\n"
            f"ExecStart={LALOPA} button run --config /etc/lalopa/button.toml --mock-pins "
            f"--press-socket {PRESS_SOCKET}\nRuntimeDirectory=lalopa-button\n")
    for box in (h for h in HOSTS if h.kind == "box"):
        # The pins are mock pins for every program on the box (doctor included).
        run_in(box, f"""
echo GPIOZERO_PIN_FACTORY=mock >> /etc/environment
echo 'Defaults env_keep += "GPIOZERO_PIN_FACTORY"' > /etc/sudoers.d/rehearsal-pins
chmod 0440 /etc/sudoers.d/rehearsal-pins
mkdir -p /etc/systemd/system/lalopa-button.service.d
printf '%s' {shlex.quote(pins)} > /etc/systemd/system/lalopa-button.service.d/rehearsal.conf
""")


def board_call_log() -> None:
    """The board writes what it showed and said to a call log the rehearsal reads."""
    conf = "/etc/lalopa/sway/display.conf"
    run_in(BY_NAME["board"], f"""
sed -i 's#^exec \\(.*lalopa display run [^;]*\\);#exec \\1 --call-log {CALL_LOG};#' {conf}
grep -q -- '--call-log {CALL_LOG}' {conf}
systemctl restart lalopa-display.service
""")


# -- checks --------------------------------------------------------------------------

def check_units(hosts=HOSTS, timeout: float = 90) -> None:
    """Every enabled lalopa (and broker, rehearsal) unit of each host is active."""
    for host in hosts:
        listed = run_in(host, "systemctl list-unit-files --no-legend --state=enabled "
                              "'lalopa*' 'mosquitto*' 'nginx*' 'rehearsal-*' | awk '{print $1}'",
                        timeout=15).stdout.split()
        missing = [u for u in UNITS[host.kind] if u not in listed]
        if missing:
            raise RehearsalFailed(f"{host.name}: not installed or not enabled: {' '.join(missing)}")
        units = sorted(set(listed) | set(UNITS[host.kind]))

        def probe(host=host, units=units):
            res = run_in(host, "systemctl is-active " + " ".join(units), check=False, timeout=15)
            states = res.stdout.split()
            return states if states and all(s == "active" for s in states) else None
        try:
            wait_until(f"{host.name}: {' '.join(units)} active", probe, timeout)
        except RehearsalFailed as exc:
            status = run_in(host, "systemctl --no-pager status " + " ".join(units)
                            + " 2>&1 | tail -40; journalctl --no-pager -n 40 -u "
                            + " -u ".join(units), check=False, timeout=20).stdout
            raise RehearsalFailed(f"{exc}\n{status}") from None
    log("units: every enabled unit is active on " + ", ".join(h.name for h in hosts))


def doctor(host: rig.Host) -> tuple[int, str]:
    role = DOCTOR_ROLE[host.kind]
    res = run_in(host, f"lalopa doctor --role {role}", check=False, timeout=120)
    return res.returncode, res.stdout + res.stderr


def check_doctor_passes() -> None:
    # The server last: its broker check logs in as the server, which knocks the
    # server's own bridge off the bus for a moment (one connection per broker user).
    for host in sorted((h for h in HOSTS if h.kind != "printer"), key=lambda h: h.kind == "server"):
        code, out = doctor(host)
        if code != 0:
            raise RehearsalFailed(f"{host.name}: lalopa doctor fails on the good site:\n{out}")
    wait_server_healthy()
    log("doctor: passes on kiosk, board, both boxes and the server")
    check_dashboard_clean("after every doctor ran")


def dashboard_state() -> dict:
    """The supervisor's live dashboard (devices, alerts), logged in from the kiosk host."""
    res = run_in(BY_NAME["kiosk"], f"{PY} {HELPERS}/onhost.py dashboard "
                 f"--server http://{BY_NAME['server'].addr}:8080 --username supervisor "
                 f"--password-file {rig.STICK}/supervisor.password", timeout=60)
    return json.loads(res.stdout)


def check_dashboard_clean(when: str) -> None:
    """Every device is listed online, no doctor is listed, no alert is up (doctor leaves no trace)."""
    def clean():
        state = dashboard_state()
        devices = state.get("devices") or []
        doctors = [d["device"] for d in devices if "doctor" in str(d.get("device", ""))
                   or d.get("role") == "doctor"]
        offline = [d["device"] for d in devices if d.get("status") != "online"]
        alerts = [a.get("text") for a in state.get("alerts") or []]
        return None if doctors or offline or alerts else state
    try:
        state = wait_until("a clean dashboard", clean, 45, 3)
    except RehearsalFailed:
        raise RehearsalFailed(f"dashboard {when}: {json.dumps(dashboard_state())[:3000]}") from None
    names = sorted(d["device"] for d in state.get("devices") or [])
    log(f"dashboard {when}: {len(names)} devices online ({', '.join(names)}), no alert")


def wait_server_healthy(timeout: float = 30) -> None:
    url = f"http://{BY_NAME['server'].addr}:8080/healthz"
    wait_until("the server's /healthz to answer 200", lambda: run_in(
        BY_NAME["kiosk"], f"curl -sf -o /dev/null {url}", check=False, timeout=15).returncode == 0,
        timeout)


def printed_jobs() -> list[dict]:
    res = run_in(BY_NAME["printer"], f"cat {PRINTS} 2>/dev/null || true", timeout=15)
    return [json.loads(ln) for ln in res.stdout.splitlines() if ln.strip()]


def take_ticket_at_kiosk() -> dict:
    """A scripted resident taps the running kiosk on its (headless) screen once."""
    kiosk = BY_NAME["kiosk"]
    conf = "/etc/lalopa/sway/kiosk.conf"
    before = len(printed_jobs())
    since = run_in(kiosk, "date +%s", timeout=15).stdout.strip()
    # A runtime drop-in (gone at the next boot) starts the same kiosk with one scripted tap.
    run_in(kiosk, f"""
sed 's#^exec \\(.*lalopa kiosk run [^;]*\\);#exec \\1 --demo-taps 1;#' {conf} > /run/rehearsal-kiosk.conf
grep -q -- '--demo-taps 1' /run/rehearsal-kiosk.conf
mkdir -p /run/systemd/system/lalopa-kiosk.service.d
printf '[Service]\\nExecStart=\\nExecStart=/usr/bin/sway --config /run/rehearsal-kiosk.conf\\n' \\
    > /run/systemd/system/lalopa-kiosk.service.d/taps.conf
systemctl daemon-reload
systemctl restart lalopa-kiosk.service
""")

    def confirmed():
        out = run_in(kiosk, f"journalctl -u lalopa-kiosk -o cat --no-pager --since @{since}",
                     timeout=20).stdout
        lines = [ln for ln in out.splitlines() if '"demo_ticket"' in ln]
        return json.loads(lines[-1][lines[-1].index("{"):])["demo_ticket"] if lines else None
    try:
        ticket = wait_until("the kiosk to confirm a ticket taken on its screen", confirmed, 90)
        job = wait_until(f"the network printer to print {ticket.get('number')}",
                         lambda: next((j for j in printed_jobs()[before:]
                                       if ticket["number"] in json.dumps(j)), None), 60)
    finally:   # back to the kiosk as installed
        run_in(kiosk, "rm -rf /run/systemd/system/lalopa-kiosk.service.d; systemctl daemon-reload; "
                      "systemctl restart lalopa-kiosk.service", timeout=30)
    return {"ticket": ticket, "job": job}


def check_ticket_printed(taken: dict) -> None:
    """The decoded receipt carries the number, the status link as a QR code, the requirements."""
    ticket, job = taken["ticket"], taken["job"]
    receipt = next((r for r in job.get("receipts", []) if ticket["number"] in r.get("text", "")),
                   None)
    if receipt is None:
        raise RehearsalFailed(f"printer: no receipt with {ticket['number']}: {json.dumps(job)[:2000]}")
    text, qrs = receipt["text"], receipt.get("qr", [])
    problems = []
    if not any(ticket["token"] in q and q.startswith(f"http://{BY_NAME['server'].addr}")
               for q in qrs):
        problems.append(f"no QR code with the ticket's status link on the server (QR: {qrs})")
    site = rig.tomllib.loads((rig.REPO / "server/sites/example.toml").read_text())
    service = next(s for s in site["services"] if s["prefix"] == ticket["number"].split("-")[0])
    flat = " ".join(text.split())
    missing = [r["id"] for r in service.get("requirements", []) if " ".join(r["id"].split()) not in flat]
    if missing:
        problems.append(f"requirements missing from the ticket: {missing}")
    if job.get("unknown") or receipt.get("unknown"):
        problems.append(f"the printer met commands it does not know: "
                        f"{job.get('unknown') or receipt.get('unknown')}")
    if problems:
        raise RehearsalFailed("printed ticket: " + "; ".join(problems) + f"\n{text}")
    log(f"kiosk: {ticket['number']} taken on the screen, printed with its QR status link and "
        f"{len(service.get('requirements', []))} requirements")


def press(box: rig.Host, button: str) -> None:
    run_in(box, f"{LALOPA} button press --socket {PRESS_SOCKET} {button}", timeout=30)


def board_calls() -> list[dict]:
    res = run_in(BY_NAME["board"], f"cat {CALL_LOG} 2>/dev/null || true", timeout=15)
    return [json.loads(ln) for ln in res.stdout.splitlines() if ln.strip()]


def check_call(box: rig.Host, number: str) -> dict:
    """A press of NEXT on ``box`` calls ``number``: the board shows it and speaks it."""
    board = BY_NAME["board"]
    audio_before = int(run_in(board, f"stat -c %s {SPEAKERS_FILE} 2>/dev/null || echo 0",
                              timeout=15).stdout.strip() or 0)
    press(box, "next")
    call = wait_until(f"the board to call {number} at counter {box.counter}",
                      lambda: next((c for c in board_calls() if c.get("ticket") == number
                                    and c.get("counter") == box.counter), None), 60)
    if not call.get("spoken"):
        raise RehearsalFailed(f"board: {number} was shown but not announced: {call}")
    # The announcement reached the sound output: non-silent samples after the call.
    res = run_in(board, f"""{PY} - <<'EOF'
import array, sys
with open("{SPEAKERS_FILE}", "rb") as f:
    f.seek({audio_before})
    data = f.read()
samples = array.array("h", data[: len(data) // 2 * 2])
print(max((abs(s) for s in samples), default=0))
EOF""", timeout=60)
    peak = int(res.stdout.strip() or 0)
    if peak < 500:
        raise RehearsalFailed(f"board: the call of {number} made no sound (peak {peak})")
    log(f"box {box.name}: NEXT called {number}; board showed and announced it (peak {peak})")
    return call


def ticket_flow(box: rig.Host) -> None:
    taken = take_ticket_at_kiosk()
    check_ticket_printed(taken)
    check_call(box, taken["ticket"]["number"])


def check_reboots(stick, wheels) -> None:
    t0 = time.monotonic()
    for host in HOSTS:
        rig.reboot(host, stick, wheels)
    check_units(HOSTS, timeout=120)
    log(f"reboot: every host rebooted and came back by itself ({time.monotonic() - t0:.0f} s)")


def check_server_kill() -> None:
    """Kill the server host's processes mid-stream: no acknowledged ticket is lost."""
    kiosk, server = BY_NAME["kiosk"], BY_NAME["server"]
    run_in(kiosk, "rm -f /root/acked.jsonl", timeout=15)
    stream = threading.Thread(target=lambda: results.append(run_in(
        kiosk, f"{PY} {HELPERS}/onhost.py stream --config /etc/lalopa/kiosk.toml "
               f"--count 14 --pace 2 --out /root/acked.jsonl", timeout=300, check=False)))
    results: list = []
    stream.start()
    wait_until("the first acknowledged tickets", lambda: int(run_in(
        kiosk, "wc -l < /root/acked.jsonl 2>/dev/null || echo 0", timeout=15).stdout) >= 4, 60, 0.3)
    # A power-cut-like kill of the server's processes (the queue server and the broker).
    run_in(server, "kill -KILL $(systemctl show -p MainPID --value lalopa-server.service) "
                   "$(systemctl show -p MainPID --value mosquitto.service)", timeout=15)
    stream.join(timeout=320)
    res = results[0] if results else None
    if res is None or res.returncode != 0:
        raise RehearsalFailed("ticket stream across the server kill failed:\n"
                              + (res.stdout + res.stderr if res else "no result"))
    check = run_in(kiosk, f"{PY} {HELPERS}/onhost.py verify --config /etc/lalopa/kiosk.toml "
                          f"--acked /root/acked.jsonl", timeout=120, check=False)
    if check.returncode != 0:
        raise RehearsalFailed("after the server kill: " + check.stdout + check.stderr)
    check_units([server])
    log("server kill: " + check.stdout.strip())


def check_watchdog() -> None:
    """SIGSTOP the server's main process: systemd's watchdog restarts it."""
    server = BY_NAME["server"]
    pid = run_in(server, "systemctl show -p MainPID --value lalopa-server", timeout=15).stdout.strip()
    if pid in ("", "0"):
        raise RehearsalFailed("lalopa-server has no main process")
    t0 = time.monotonic()
    run_in(server, f"kill -STOP {pid}", timeout=15)

    def restarted():
        now = run_in(server, "systemctl show -p MainPID --value lalopa-server; "
                             "systemctl is-active lalopa-server || true", timeout=15).stdout.split()
        return now if now and now[0] not in ("0", pid) and now[-1] == "active" else None
    wait_until("the watchdog to restart the hung server", restarted, 120, 2)
    log(f"watchdog: the hung server (pid {pid}) was restarted after {time.monotonic() - t0:.0f} s")


INJECTIONS = []   # (name, host, break script, repair script, words the doctor must say)


def injection(name: str, host: str, role_check: str, *, brk: str, fix: str):
    INJECTIONS.append((name, host, role_check, brk, fix))


injection("printer is a file", "kiosk", "printer",
          brk="cp /etc/lalopa/kiosk.toml /root/kiosk.toml.good && "
              "sed -i 's/^backend *=.*/backend = \"file\"/' /etc/lalopa/kiosk.toml",
          fix="cp /root/kiosk.toml.good /etc/lalopa/kiosk.toml")
injection("printer unreachable", "printer", "printer",
          brk="systemctl stop rehearsal-printer.service",
          fix="systemctl start rehearsal-printer.service")
injection("server not answering", "server", "server",
          brk="systemctl stop lalopa-server.service",
          fix="systemctl start lalopa-server.service")
injection("server URL unreachable", "kiosk", "server",
          brk="cp /etc/lalopa/kiosk.toml /root/kiosk.toml.good && "
              f"sed -i 's#^url *=.*#url = \"http://{rig.NET}.99:8080\"#' /etc/lalopa/kiosk.toml && "
              f"grep -q '{rig.NET}.99' /etc/lalopa/kiosk.toml",
          fix="cp /root/kiosk.toml.good /etc/lalopa/kiosk.toml")
injection("token refused", "kiosk", "token",
          brk="f=$(grep -Po '^token_file *= *\"\\K[^\"]+' /etc/lalopa/kiosk.toml); "
              "cp \"$f\" /root/token.good; echo not-a-real-token > \"$f\"",
          fix="f=$(grep -Po '^token_file *= *\"\\K[^\"]+' /etc/lalopa/kiosk.toml); "
              "cp /root/token.good \"$f\"")
injection("no audio device", "board", "audio",
          brk="systemctl stop rehearsal-speakers.service",
          fix="systemctl start rehearsal-speakers.service rehearsal-recorder.service")
injection("broker password unreadable", "box-01", "broker",
          brk="f=$(grep -Po '^password_file *= *\"\\K[^\"]+' /etc/lalopa/button.toml); "
              "stat -c %a \"$f\" > /root/mode.good; chmod 0600 \"$f\"; chown root:root \"$f\"",
          fix="f=$(grep -Po '^password_file *= *\"\\K[^\"]+' /etc/lalopa/button.toml); "
              "chmod $(cat /root/mode.good) \"$f\"; chown root:lalopa \"$f\"")


def check_doctor_finds_faults() -> None:
    """Each real misconfiguration: doctor exits non-zero and says what to do, ID then EN."""
    watch = {"kiosk": BY_NAME["kiosk"], "printer": BY_NAME["kiosk"], "server": BY_NAME["kiosk"],
             "board": BY_NAME["board"], "box-01": BY_NAME["box-01"]}
    for name, where, _what, brk, fix in INJECTIONS:
        run_in(BY_NAME[where], brk, timeout=30)
        try:
            host = watch[where]
            code, out = doctor(host)
            failed = [ln for ln in out.splitlines() if "GAGAL" in ln]
            if code == 0 or not failed:
                raise RehearsalFailed(f"doctor on {host.name} passes with '{name}':\n{out}")
            if not any(" / " in ln for ln in failed):
                raise RehearsalFailed(f"doctor on {host.name} ('{name}') does not say what to "
                                      f"do in Indonesian and English:\n{out}")
            log(f"doctor finds '{name}' on {host.name}: {failed[0].strip()[:110]}")
        finally:
            run_in(BY_NAME[where], fix, timeout=30)
    check_clock_unset()
    check_units(HOSTS)


def check_clock_unset() -> None:
    """A clock before the build date (a Pi without RTC after a power cut): doctor says so."""
    box = BY_NAME["box-02"]
    res = run_in(box, "faketime '2001-01-01 08:00:00' lalopa doctor --role button",
                 check=False, timeout=120)
    out = res.stdout + res.stderr
    line = next((ln for ln in out.splitlines() if "GAGAL" in ln and "clock" in ln.lower()), None)
    if res.returncode == 0 or line is None:
        raise RehearsalFailed(f"doctor on {box.name} passes with an unset clock:\n{out}")
    log(f"doctor finds 'clock unset' on {box.name}: {line.strip()[:110]}")


def screenshots() -> None:
    """What the kiosk and the board show right now, captured from their sway with grim."""
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    for name in ("kiosk", "board"):
        res = run_in(BY_NAME[name], """
sock=$(ls /run/lalopa-screen/ | grep -E '^wayland-[0-9]+$' | head -1)
runuser -u lalopa -- env XDG_RUNTIME_DIR=/run/lalopa-screen WAYLAND_DISPLAY=$sock grim - | base64 -w0
""", timeout=60)
        (SHOTS_DIR / f"{name}.png").write_bytes(base64.b64decode(res.stdout))
    log(f"screenshots: {SHOTS_DIR}/kiosk.png, {SHOTS_DIR}/board.png")


# -- the run ---------------------------------------------------------------------------

def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="rehearse", description=__doc__.split("\n\n")[0])
    ap.add_argument("--shots", action="store_true", help="grim screenshots into docs/rehearsal/")
    ap.add_argument("--keep", action="store_true",
                    help="debugging: leave the site up at the end (then run --teardown)")
    ap.add_argument("--teardown", action="store_true", help="remove a kept site and exit")
    ap.add_argument("--head", action="store_true",
                    help="install the last commit instead of the working tree")
    args = ap.parse_args(argv)
    if args.teardown:
        rig.teardown()
        return 0
    if os.geteuid() != 0:
        print("the rehearsal boots containers and makes a bridge: run it as root", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t0 = time.monotonic()
    keep = False
    rig.ensure_host_tools()
    rig.teardown()               # whatever an earlier, killed run left behind
    rig.fresh_logs()
    try:
        base, wheels = rig.base_image(), rig.wheelhouse()
        rig.RUN.mkdir(parents=True)
        stick = rig.RUN / "stick"
        rig.source_snapshot(stick / "lalopa", head=args.head)
        prepare_stick(stick)
        rig.bridge_up()
        for host in HOSTS:
            rig.prepare_host(host, base)
            rig.boot(host, stick, wheels)
        for host in HOSTS:
            rig.wait_booted(host)
        log(f"booted {len(HOSTS)} hosts on {rig.BRIDGE} ({rig.NET}.0/24)")
        hardware()
        run_guide()
        board_call_log()
        wait_server_healthy()
        check_units()
        check_doctor_passes()
        ticket_flow(BY_NAME["box-01"])
        if args.shots:
            screenshots()
        check_reboots(stick, wheels)
        # After the reboots, the next ticket goes the whole way again, called by the
        # other box (the queue is empty again: NEXT calls exactly this ticket).
        ticket_flow(BY_NAME["box-02"])
        check_doctor_finds_faults()
        check_server_kill()
        check_watchdog()
        log(f"PASSED in {time.monotonic() - t0:.0f} s")
        keep = args.keep
    except RehearsalFailed as exc:
        keep = args.keep
        log(f"FAILED after {time.monotonic() - t0:.0f} s:\n{exc}\n"
            f"(every command and its output: {rig.LOGS}/<host>.log)")
        return 1
    except BaseException as exc:      # interrupted or a harness bug: still tear down
        log(f"ABORTED after {time.monotonic() - t0:.0f} s: {exc!r}")
        raise
    finally:
        if keep:
            log("site kept for debugging; remove it with: "
                "python3 tests/rehearsal/rehearse.py --teardown")
        else:
            rig.teardown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
