"""Heard in time: seconds of speech per call, and press → end of announcement in a burst.

Runs in its own process (``python -m server.devtools.benchlib.voicebench PORT WORKDIR``)
so SDL's disk audio driver can be chosen before pygame starts: the board's mixer then
writes every sample it plays to ``SDL_DISKAUDIOFILE`` in real time, as a sound card
would take them. The real QueueService and Bridge publish the calls made by a box's
``next`` commands over a private Mosquitto; the real BoardApp (espeak-ng, the default
voice settings, no voice pack) shows and announces them. Press time = when the box
published its command; end = when the board saw its announcement's channel go idle.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

BURST = 16


def measure_voice(port: int, workdir: Path, timeout_s: float = 180) -> dict:
    """Run the measurement in a child process with the disk audio driver; its figures."""
    audio = workdir / "board-audio.raw"
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "disk",
           "SDL_DISKAUDIOFILE": str(audio), "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    out = subprocess.run([sys.executable, "-m", "server.devtools.benchlib.voicebench", str(port), str(workdir)],
                         env=env, capture_output=True, text=True, timeout=timeout_s)
    if out.returncode != 0:
        raise RuntimeError(f"voice bench failed: {out.stderr.strip()[-400:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["audio_file_s"] = audio.stat().st_size / (22050 * 2) if audio.exists() else 0.0
    return result


def _run(port: int, workdir: Path) -> dict:
    from broker.bus import BusClient
    from broker.protocol import CounterCommand, encode
    from display.app import BoardApp
    from display.config import from_dict
    from server.bridge import Bridge
    from server.devtools.benchlib.site import always_open_site
    from server.queue import QueueService

    site = always_open_site("bench-voice")
    svc = QueueService(str(workdir / "voice.db"), site)
    bridge = Bridge(svc, site, {"host": "127.0.0.1", "port": port}).start()
    box = BusClient(site=site.site_id, role="button", device="bench-box", port=port)
    box.start()
    config = from_dict({"device_id": "bench-board",
                        "bus": {"host": "127.0.0.1", "port": port, "site": site.site_id},
                        "voice": {"cache_dir": str(workdir / "voice-cache")}})
    app = BoardApp(config, size=(1366, 768)).open()
    try:
        for c in site.counters:
            svc.counter_action(c.number, "open", command_id=f"open-{c.number}", device="bench")
        for i in range(BURST + 4):
            svc.issue("A", request_id=f"r{i}", device="bench-kiosk")
        if not box.connected.wait(10) or not app.run_until(lambda: app.state.snapshot is not None, 10):
            raise TimeoutError("board or box did not connect")
        n = [0]

        def press(counter: int) -> float:
            n[0] += 1
            cmd = CounterCommand(id=f"bench-voice-{n[0]}", counter=counter, action="next",
                                 device="bench-box", sent_at_ms=int(time.time() * 1000))
            at = time.monotonic()
            box.publish(box.topics.command(counter), encode(cmd), qos=1)
            return at

        # A lone call: the full form.
        t_lone = press(1)
        if not app.run_until(lambda: len(app.announcer.log) == 1 and app.announcer.idle, 30):
            raise TimeoutError("the lone call was not announced")
        lone = app.announcer.log[0]
        # A burst: every counter presses at once.
        pressed = {c.number: press(c.number) for c in site.counters[:BURST]}
        ok = app.run_until(lambda: len(app.announcer.log) == 1 + BURST and app.announcer.idle, 120)
        burst = list(app.announcer.log)[1:]
        delays = [a.ended_at - pressed[a.counter] for a in burst]
        return {"complete": ok, "lone_length_s": lone.length_s, "lone_end_s": lone.ended_at - t_lone,
                "lone_text": lone.text, "burst_lengths_s": [a.length_s for a in burst],
                "burst_texts": [a.text for a in burst], "burst_delays_s": delays,
                "announced": len(burst), "missing": sorted({m for a in burst for m in a.missing})}
    finally:
        app.close()
        box.stop()
        bridge.stop()
        svc.close()


if __name__ == "__main__":
    print(json.dumps(_run(int(sys.argv[1]), Path(sys.argv[2]))))
