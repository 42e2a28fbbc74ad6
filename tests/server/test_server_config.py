"""Site file validation: every error names the file, the key path and the problem."""
import tomllib

import pytest

from server.cli import server_main
from server.config import EXAMPLE_SITE, load_site, parse_site
from server.errors import ConfigError


def base():
    with open(EXAMPLE_SITE, "rb") as f:
        return tomllib.load(f)


def test_example_site_is_valid():
    site = load_site(EXAMPLE_SITE)
    assert site.site_id == "dinkes-claim" and len(site.counters) == 16
    assert site.counter(13).services == ("C", "A") and site.counter(15).services == ("B", "A")
    assert site.hours["fri"][1].strftime("%H:%M") == "11:30" and "sat" not in site.hours


def _mutate(path, value):
    data = base()
    node = data
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


@pytest.mark.parametrize("path,value,message", [
    (("services", 1, "prefix"), "ab", "example.toml: services[1].prefix: must be one capital letter, got 'ab'"),
    (("services", 0, "colour"), "red", "example.toml: services[0].colour: unknown key"),
    (("timezone",), "Mars/Base", "example.toml: timezone: unknown IANA timezone 'Mars/Base' (e.g. Asia/Jakarta)"),
    (("priority", "policy"), "random", "example.toml: priority.policy: must be one of strict, interleave, got 'random'"),
    (("priority", "ratio"), 0, "example.toml: priority.ratio: must be at least 1, got 0"),
    (("counters", 2, "services"), ["A", "Q"], "example.toml: counters[2].services[1]: unknown service 'Q'"),
    (("hours", "mon"), ["15:00", "08:00"], "example.toml: hours.mon: closing time must be after opening time, got ['15:00', '08:00']"),
    (("hours", "funday"), ["08:00", "09:00"], "example.toml: hours.funday: unknown key"),
    (("site_id",), "Dinkes Claim", "example.toml: site_id: must be a lowercase slug (a-z, 0-9, -), got 'Dinkes Claim'"),
    (("transfer_policy",), "teleport", "example.toml: transfer_policy: must be one of keep_place, go_last, got 'teleport'"),
    (("target_wait_min",), "30", "example.toml: target_wait_min: must be an integer, got '30'"),
    (("facility",), KeyError, "example.toml: facility: is required"),
    (("services", 0, "requirements", 0, "id"), "", "example.toml: services[0].requirements[0].id: Persyaratan (Indonesia): wajib diisi / Requirement (Indonesian): must not be empty"),
])
def test_errors_name_the_key(path, value, message):
    with pytest.raises(ConfigError) as info:
        parse_site(_mutate(path, value), "example.toml")
    assert str(info.value) == message


def test_duplicate_counter_numbers():
    data = base()
    data["counters"][1]["number"] = 1
    with pytest.raises(ConfigError, match="counters: two counters share a number"):
        parse_site(data, "x.toml")


def test_validate_config_cli(tmp_path, capsys):
    assert server_main(["--site", str(EXAMPLE_SITE), "--validate-config"]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE_SITE.read_text().replace('prefix = "B"', 'prefix = "bb"'))
    assert server_main(["--site", str(bad), "--validate-config"]) == 1
    assert "bad.toml: services[1].prefix: must be one capital letter, got 'bb'" in capsys.readouterr().err
    broken = tmp_path / "broken.toml"
    broken.write_text("site_id = ")
    assert server_main(["--site", str(broken), "--validate-config"]) == 1
