"""The deploy guide as the rehearsal's script: its convention, checked in `make test`.

`make rehearsal` runs every shell block of docs/DEPLOY.md on booted hosts; these
tests check, without booting anything, that the guide keeps the convention the
rehearsal relies on and that the harness can fill in every value it asks for.
"""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import guide  # noqa: E402
import rehearse  # noqa: E402
import rig  # noqa: E402


def test_every_shell_block_says_where_it_runs_and_every_value_is_filled():
    blocks = guide.load()
    assert len(blocks) >= 12
    for block in blocks:
        assert block.run_on, block.line
        for host in (h for h in rig.HOSTS if h.kind in block.values_from):
            text = block.for_host(rehearse.fill_values(host))
            for name in block.fills:
                assert f"{name}={rehearse.fill_values(host)[name]}" in text


def test_the_guide_covers_each_kind_of_host():
    kinds = {k for b in guide.load() for k in b.run_on}
    assert kinds == {"server", "kiosk", "board", "box"}


def test_only_the_marked_values_change():
    text = """# Title

```sh
# on: kiosk
SERVER=192.168.1.10   # fill in: the server's address
echo SERVER=192.168.1.10 "$SERVER"
```

```toml
not = "a command"
```
"""
    [block] = guide.blocks(text)
    assert block.line == 3 and block.target == "kiosk" and block.fills == {"SERVER": "192.168.1.10"}
    out = block.for_host({"SERVER": "10.0.0.9"})
    assert out.splitlines()[1] == "SERVER=10.0.0.9   # fill in: the server's address"
    assert out.splitlines()[2] == 'echo SERVER=192.168.1.10 "$SERVER"'


def test_a_block_without_a_place_or_a_value_is_refused():
    with pytest.raises(guide.GuideError, match="line 1.*must start with '# on: WHERE'"):
        guide.blocks("```sh\nsudo reboot\n```\n")
    with pytest.raises(guide.GuideError, match="unknown place 'the moon'"):
        guide.blocks("```sh\n# on: the moon\nls\n```\n")
    with pytest.raises(guide.GuideError, match="never closed"):
        guide.blocks("```sh\n# on: server\nls\n")
    [block] = guide.blocks("```sh\n# on: server\nLAN=1.2.3.0/24   # fill in\n```\n")
    with pytest.raises(guide.GuideError, match="no value for LAN"):
        block.for_host({})


def test_the_rehearsal_runs_every_block(monkeypatch):
    """run_guide hands each block to each host it names, and none is left out."""
    ran = []
    monkeypatch.setattr(rehearse, "_run_block",
                        lambda block, place, source: ran.append((block.line, place.name, source.name)))
    count = rehearse.run_guide()
    blocks = guide.load()
    assert count == len(blocks)
    assert {line for line, _, _ in ran} == {b.line for b in blocks}
    per_box = [b for b in blocks if b.target == "server, once per button box"]
    for b in per_box:
        assert sorted(s for line, p, s in ran if line == b.line) == ["box-01", "box-02"]
        assert {p for line, p, s in ran if line == b.line} == {"server"}


def test_the_office_site_file_on_the_stick_is_valid_and_always_open(tmp_path):
    """The rehearsal's site file (the example, open around the clock) passes the server's loader."""
    from server.config import load_site

    rehearse.prepare_stick(tmp_path)
    site = load_site(tmp_path / "site.toml")
    assert site.site_id == rehearse.SITE_ID
    assert set(site.hours) == {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
