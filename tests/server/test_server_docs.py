"""The contract is documented: every error code, action and endpoint appears in docs/API.md."""
from pathlib import Path

from server import actions, errors
from server.app import create_app

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_error_codes_documented():
    text = (DOCS / "API.md").read_text()
    for cls in errors.QueueError.__subclasses__():
        if cls.__module__ != errors.__name__:
            continue  # other modules' errors (auth, rate limit) are documented by them
        assert f"`{cls.code}`" in text, cls.code


def test_actions_documented():
    text = (DOCS / "API.md").read_text()
    for action in actions.HANDLERS:
        assert f"`{action}`" in text, action


def test_endpoints_documented(tmp_path):
    app = create_app({"LALOPA_DB": str(tmp_path / "d.db"), "LALOPA_WEB": False})
    text = (DOCS / "API.md").read_text().replace("&lt;", "<").replace("&gt;", ">")
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(("api.", "ticket_page.")):
            path = str(rule).replace("<int:counter>", "<n>")
            assert path.replace("/api/v1", "") in text or path in text, path
    app.extensions["lalopa.queue"].close()


def test_statistics_documented():
    text = (DOCS / "STATISTICS.md").read_text()
    for figure in ("issued", "served", "no_show", "cancelled", "waiting", "mean_s", "median_s",
                   "p90_s", "within_target", "open_s", "paused_s", "serving_s", "idle_s",
                   "utilisation", "arrivals_per_hour", "completions_per_hour", "est_wait_s",
                   "longest_wait_s"):
        assert f"`{figure}`" in text, figure
