"""A broken install fails loud at start: no server without its dashboard or bus, no silent OK.

A part is made missing the way a broken wheel would: its module cannot be
imported (``sys.modules[name] = None`` makes every import of it fail).
"""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from broker import cli as lalopa_cli
from broker.bus import free_port
from server.config import EXAMPLE_SITE

ROOT = Path(__file__).resolve().parents[2]


def test_app_without_dashboard_refuses_to_start(monkeypatch, tmp_path):
    """GIVEN server.web cannot be imported WHEN the app is created THEN it raises, naming it
    (it used to start without a dashboard)."""
    from server.app import create_app
    monkeypatch.setitem(sys.modules, "server.web", None)
    with pytest.raises(ImportError, match="server.web"):
        create_app({"LALOPA_DB": str(tmp_path / "q.db")})


def test_server_with_mqtt_but_no_bridge_exits_non_zero(tmp_path):
    """GIVEN server.bridge cannot be imported WHEN 'lalopa server --mqtt-host' starts THEN it exits
    non-zero naming the bridge (it used to log and serve HTTP only, bus-less)."""
    script = textwrap.dedent(f"""
        import sys
        sys.modules["server.bridge"] = None
        from broker.cli import main
        sys.exit(main(["server", "--site", {str(EXAMPLE_SITE)!r}, "--db", {str(tmp_path / 'q.db')!r},
                       "--port", "{free_port()}", "--mqtt-host", "127.0.0.1", "--mqtt-port", "1"]))
    """)
    try:
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=30, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail("the server kept running without its bus bridge")
    assert proc.returncode != 0
    assert "server.bridge" in proc.stderr


def test_user_command_without_auth_raises(monkeypatch):
    from server.cli import user_main
    monkeypatch.setitem(sys.modules, "server.auth", None)
    with pytest.raises(ImportError, match="server.auth"):
        user_main(["--help"])


def test_doctor_without_site_loader_is_not_ok(monkeypatch, tmp_path):
    """GIVEN the site loader cannot be imported WHEN doctor checks a server config THEN it does
    not report OK (it used to skip the check and say the file parsed)."""
    from server.appliance.doctor import check_config
    path = tmp_path / "site.toml"
    path.write_text(Path(EXAMPLE_SITE).read_text())
    monkeypatch.setitem(sys.modules, "server.config", None)
    with pytest.raises(ImportError, match="server.config"):
        check_config("server", path)


def test_lalopa_names_a_missing_role_and_exits_1(monkeypatch, capsys, tmp_path):
    """GIVEN the display package is not installed, or a role needs a third-party package that is
    not WHEN its command runs THEN lalopa exits 1 naming the missing part."""
    for name in [m for m in sys.modules if m == "display" or m.startswith("display.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "display", None)
    assert lalopa_cli.main(["display", "--help"]) == 1
    err = capsys.readouterr().err
    assert "display.cli" in err and "lalopa[display]" in err

    (tmp_path / "needsdep_h6.py").write_text("import no_such_vendor_pkg_h6\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(lalopa_cli.COMMANDS, "needsdep", ("needsdep_h6:main", "test"))
    assert lalopa_cli.main(["needsdep"]) == 1
    assert "no_such_vendor_pkg_h6" in capsys.readouterr().err


def test_lalopa_does_not_hide_an_import_error_inside_a_present_module(monkeypatch, tmp_path):
    """GIVEN a role module that imports a name our own package lacks WHEN it is run THEN the
    ImportError surfaces (it used to be reported as 'this role is not installed')."""
    pkg = tmp_path / "brokenrole_h6"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "cli.py").write_text("from broker.protocol import NoSuchThing\n\ndef main(argv):\n    return 0\n")
    (pkg / "cli2.py").write_text("import server.no_such_module\n\ndef main(argv):\n    return 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(lalopa_cli.COMMANDS, "broken", ("brokenrole_h6.cli:main", "test"))
    monkeypatch.setitem(lalopa_cli.COMMANDS, "broken2", ("brokenrole_h6.cli2:main", "test"))
    with pytest.raises(ImportError, match="NoSuchThing"):
        lalopa_cli.main(["broken"])
    with pytest.raises(ModuleNotFoundError, match="server.no_such_module"):
        lalopa_cli.main(["broken2"])


def test_no_test_skips_because_a_part_has_not_landed():
    """Every part is present: a test that skips when one is missing hides a broken install."""
    pattern = re.compile(r"importorskip|not\s+landed|not importable yet|find_spec|modules missing")
    offenders = [f"{path.relative_to(ROOT)}:{n}"
                 for path in (ROOT / "tests").rglob("*.py") if path.name != Path(__file__).name
                 for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == []
