"""``create_app(test_config=None)``: the Flask application, flaskr style.

Config flows one way: defaults → environment (``LALOPA_SITE``, ``LALOPA_DB``,
``LALOPA_SECRET_KEY``) → the test dict. The QueueService is stored as
``app.extensions["lalopa.queue"]``. Served by waitress (``lalopa server``);
Flask's development server is for tests only.
"""
from __future__ import annotations

import secrets

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from broker import settings
from server import api, errors
from server.web import survey
from server.config import EXAMPLE_SITE, load_site
from server.queue import QueueService

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type"}


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        LALOPA_SITE=str(EXAMPLE_SITE), LALOPA_DB="lalopa.db", LALOPA_CLOCK=None, LALOPA_WEB=True,
        MAX_CONTENT_LENGTH=16 * 1024,
        SECRET_KEY=secrets.token_hex(32))  # per process unless set: sessions end on restart
    for key in ("LALOPA_SITE", "LALOPA_DB", "LALOPA_SECRET_KEY"):
        if settings.get(key):
            app.config["SECRET_KEY" if key == "LALOPA_SECRET_KEY" else key] = settings.get(key)
    if test_config:
        app.config.update(test_config)
    svc = app.config.get("LALOPA_QUEUE") or QueueService(
        app.config["LALOPA_DB"], load_site(app.config["LALOPA_SITE"]), app.config["LALOPA_CLOCK"])
    app.extensions["lalopa.queue"] = svc
    app.extensions.setdefault(api.AUTH_HOOKS_KEY, [])
    app.register_blueprint(api.bp)
    app.register_blueprint(api.pages)
    app.register_blueprint(survey.bp)  # public: the resident's survey after service
    _register_errors(app)
    if app.config["LALOPA_WEB"]:
        _register_web(app)
    return app


def _register_errors(app: Flask) -> None:
    @app.errorhandler(errors.QueueError)
    def queue_error(exc: errors.QueueError):
        return jsonify({"error": exc.to_dict()}), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if not (request.path.startswith("/api/") or request.path in ("/healthz",)):
            return exc  # the dashboard renders its own HTML errors
        err = errors.QueueError(exc.description or exc.name,
                                f"Permintaan tidak dapat diproses ({exc.code}).")
        err.code = HTTP_CODES.get(exc.code, "http_error")
        return jsonify({"error": err.to_dict()}), exc.code


def _register_web(app: Flask) -> None:
    """The dashboard (server/web): a server without it is a broken install, so any
    ImportError here stops the start with its cause."""
    from server.web import init_web
    init_web(app)
