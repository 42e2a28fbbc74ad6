"""The passwords a city service reads are readable by the service user, and nobody else."""
from __future__ import annotations

import grp
import os
import stat

import pytest

from server.central import cli as central_cli


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's group needs root")
def test_a_service_password_is_root_lalopa_0640(tmp_path, monkeypatch):
    """GIVEN a machine whose service group is (here) 'daemon' WHEN the centre's or the
    uplink's password is written THEN it is root:<service group> 0640, so the unit running
    as the service user can read it; a password to hand over stays root-only 0600."""
    daemon = grp.getgrnam("daemon")
    monkeypatch.setattr(central_cli.grp, "getgrnam",
                        lambda name: daemon if name == central_cli.SERVICE_USER else grp.getgrnam(name))
    service, handover = tmp_path / "uplink.password", tmp_path / "site.password"
    central_cli._write_secret(str(service), "s3cret", for_service=True)
    central_cli._write_secret(str(handover), "s3cret")
    st = service.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, daemon.gr_gid, 0o640)
    assert stat.S_IMODE(handover.stat().st_mode) == 0o600
    assert service.read_text() == "s3cret\n"
