"""The board on a screen without a desktop session: the installed sway config, run by
sway 1.7 headless exactly as the screen unit runs it, shows the real board, and grim
captures it. Needs the sway and grim packages (the Makefile installs them)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from broker.bus import BusClient
from broker.protocol import BoardSnapshot, CounterSlot, ServiceInfo, TicketRef, encode
from server.appliance.screen import headless_environment, sway_config

REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".venv"
HEADLESS = REPO / "systemd" / "lalopa-screen-headless.conf"

pytestmark = [pytest.mark.timeout(90), pytest.mark.slow]


def _wait(predicate, timeout: float, what: str, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"sway ended ({proc.returncode}) before {what}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _board_snapshot(site: str) -> bytes:
    slots = tuple(CounterSlot(counter=n, name=f"Loket {n}", status="open",
                              ticket=TicketRef(number="A-023", service="A", status="serving")
                              if n == 5 else None) for n in range(1, 9))
    return encode(BoardSnapshot(
        site=site, facility="Dinas Kesehatan Kota", service_day="2026-11-23",
        server_time_ms=int(time.time() * 1000), tz="Asia/Jakarta", seq=1, counters=slots,
        recent=(), services=(ServiceInfo(prefix="A", name_id="Verifikasi Klaim",
                                         name_en="Claim verification", waiting=4),),
        running_text="Siapkan KK dan E-KTP asli."))


def _sway_command(config: Path) -> list[str]:
    """sway refuses to run as root, as the unit never does (User=lalopa). Tests here run
    as root, so sway runs in a user namespace where it is an unprivileged user (uid 65534)
    while it still reads this checkout's venv."""
    sway = [shutil.which("sway") or "/usr/bin/sway", "--config", str(config)]
    return ["unshare", "--user", *sway] if os.geteuid() == 0 else sway


def _app_pid(config: Path) -> int:
    """The app started by sway's exec (sway forks twice, so it is no child of sway's):
    the one process whose command line names this test's own app config."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if proc.name.isdigit() and b"run" in argv and str(config).encode() in argv:
            found.append(int(proc.name))
    assert len(found) == 1, found
    return found[0]


def _wait_pid(config: Path, sway) -> int:
    found: list[int] = []

    def started() -> bool:
        try:
            found.append(_app_pid(config))
        except AssertionError:
            return False
        return True
    _wait(started, 20, "the app's process", sway)
    return found[-1]


class HeadlessSway:
    """sway started the way a screen unit starts it: the role's sway config (as the
    installer writes it, with this checkout's venv), the unit's environment plus the
    rehearsal's headless drop-in, and this test's HOME and XDG_RUNTIME_DIR (logind or
    RuntimeDirectory= provide them on a real host)."""

    def __init__(self, tmp_path: Path, role: str, app_config: Path, shots: Path):
        assert shutil.which("grim") and Path("/usr/bin/sway").exists(), "apt-get install sway grim"
        unit = REPO / "systemd" / f"lalopa-{role}.service"
        config = tmp_path / "sway.conf"
        config.write_text(sway_config(role, venv=str(VENV), config=str(app_config),
                                      extra_args=("--screenshots", str(shots))))
        self.runtime = tmp_path / "xdg"
        self.runtime.mkdir(mode=0o700)
        self.env = {"PATH": "/usr/bin:/bin", **headless_environment(unit),
                    **headless_environment(HEADLESS), "HOME": str(tmp_path),
                    "XDG_RUNTIME_DIR": str(self.runtime),
                    "SDL_AUDIODRIVER": "dummy"}       # no sound card on this machine
        assert self.env["SDL_VIDEODRIVER"] == "wayland" and self.env["WLR_BACKENDS"] == "headless"
        self.log = (tmp_path / "sway.log").open("w")
        self.proc = subprocess.Popen(_sway_command(config), env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        _wait(lambda: (self.runtime / "wayland-1").exists(), 20, "sway's Wayland socket", self.proc)

    def grim(self, out: Path) -> Image.Image:
        done = subprocess.run(["grim", str(out)], env={**self.env, "WAYLAND_DISPLAY": "wayland-1"},
                              capture_output=True, text=True, timeout=20)
        assert done.returncode == 0, done.stderr
        if os.environ.get("LALOPA_KEEP_SCREEN"):   # e.g. for docs/rehearsal/
            shutil.copy(out, os.environ["LALOPA_KEEP_SCREEN"] + f"-{out.stem}.png")
        return Image.open(out).convert("RGB")

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)
        self.log.close()


def _differs(shown: Image.Image, rendered: Image.Image) -> float:
    """The share of pixels that differ visibly between two pictures of the same size."""
    assert shown.size == rendered.size == (1280, 720)   # full screen on sway's output
    diff = ImageChops.difference(shown, rendered.convert("RGB")).convert("L")
    return diff.point(lambda v: 255 if v > 24 else 0).histogram()[255] / (1280 * 720)


def test_board_runs_under_headless_sway_and_grim_captures_it(tmp_path, mosquitto, site_id):
    """GIVEN the display role's sway config, the unit's environment plus the headless
    drop-in, and a board snapshot (A-023 at counter 5) retained on a real broker
    WHEN sway starts the way lalopa-display.service starts it
    THEN the real `lalopa display run` opens full screen through Wayland, grim's capture of
    sway's output is the picture the board itself rendered (also after sway's full-screen
    configure replaced the window's surface), and when the board ends sway exits too (so
    systemd's Restart= brings both back)."""
    board = tmp_path / "display.toml"
    board.write_text(f'device_id = "board-1"\n[bus]\nhost = "127.0.0.1"\nport = {mosquitto.port}\n'
                     f'site = "{site_id}"\n[voice]\nenabled = false\n'
                     f'cache_dir = "{tmp_path / "voice"}"\n')
    server = BusClient(site=site_id, role="server", device="test-server", port=mosquitto.port)
    server.start()
    assert server.connected.wait(5)
    server.publish(server.topics.board, _board_snapshot(site_id), retain=True).wait_for_publish(5)
    server.stop()
    shots = tmp_path / "board-shots"
    sway = HeadlessSway(tmp_path, "display", board, shots)
    try:
        latest = shots / "latest.png"     # the board rewrites it on every change
        _wait(latest.exists, 40, "the board's first frame", sway.proc)
        changed, deadline = 1.0, time.monotonic() + 30
        while changed >= 0.02 and time.monotonic() < deadline:
            # The snapshot arrives just after the first frame: capture once the board is idle.
            _wait(lambda: time.time() - latest.stat().st_mtime > 1.0, 20, "an idle board", sway.proc)
            shown = sway.grim(tmp_path / "board")
            changed = _differs(shown, Image.open(latest))
        assert changed < 0.02, f"{changed:.1%} of the screen differs from the board's own frame"
        # Counter 5's tile (middle of the grid) carries the big white A-023 of the snapshot.
        tile = shown.crop((800, 330, 1020, 410)).convert("L")
        assert sum(tile.point(lambda v: 255 if v > 230 else 0).histogram()[255:]) > 1500
        os.kill(_app_pid(board), signal.SIGTERM)   # the board ends: sway must exit too
        assert sway.proc.wait(15) == 0
    finally:
        sway.close()


def test_kiosk_runs_under_headless_sway_and_grim_captures_it(tmp_path, mosquitto, site_id):
    """GIVEN the kiosk role's sway config and unit environment with the headless drop-in, and
    a kiosk whose server cannot be reached
    WHEN sway starts the way lalopa-kiosk.service starts it
    THEN the real `lalopa kiosk run` fills sway's output, grim's capture is the kiosk's own
    last frame (saved when it stops), and sway exits when the kiosk ends."""
    token = tmp_path / "kiosk.token"
    token.write_text("no-server-here\n")
    kiosk = tmp_path / "kiosk.toml"
    kiosk.write_text(f'device_id = "kiosk-1"\n[server]\nurl = "http://127.0.0.1:9"\n'
                     f'token_file = "{token}"\nconnect_timeout_s = 0.5\nattempts = 1\n'
                     f'[bus]\nhost = "127.0.0.1"\nport = {mosquitto.port}\nsite = "{site_id}"\n'
                     f'[printer]\nbackend = "none"\n')
    shots = tmp_path / "kiosk-shots"
    sway = HeadlessSway(tmp_path, "kiosk", kiosk, shots)
    try:
        pid = _wait_pid(kiosk, sway.proc)
        time.sleep(3.0)      # sway's full-screen configure and the first answers have come
        shown = sway.grim(tmp_path / "kiosk")
        os.kill(pid, signal.SIGTERM)              # the kiosk saves its last frame and ends
        assert sway.proc.wait(15) == 0
        frames = list(shots.glob("*-1280x720.png"))
        assert frames, f"the kiosk never ran full screen: {list(shots.iterdir())}"
        last = max(frames, key=lambda p: p.stat().st_mtime)
        changed = _differs(shown, Image.open(last))
        assert changed < 0.02, f"{changed:.1%} of the screen differs from the kiosk's {last.name}"
        assert len(shown.getcolors(1 << 16) or range(1 << 16)) > 20   # a screen, not a fill
    finally:
        sway.close()
