"""Simfleet: a self-hosted IoT SIM fleet manager for 1NCE customers."""

from pathlib import Path

from flask import Flask

from webapp.config import config_from_environment

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    """Build the Simfleet web app; `overrides` replace settings (tests pass a plain dict)."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.update(config_from_environment(overrides))
    register_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_templates(app)
    register_errors(app)
    register_request_hooks(app)
    register_commands(app)
    return app


def register_logging(app: Flask) -> None:
    """Log plain text in development and JSON lines in production."""
    from webapp.observability import configure_logging

    configure_logging(app)


def register_extensions(app: Flask) -> None:
    """Bind the shared extension instances to this app."""
    from webapp import models  # noqa: F401  (registers the models on the metadata)
    from webapp.apikeys.services import watch_api_key_changes
    from webapp.auth.services import configure_login
    from webapp.extensions import (
        csrf,
        db,
        drop_closed_connections,
        htmx,
        limiter,
        migrate,
        redis_connection,
    )
    from webapp.observability import configure_metrics

    db.init_app(app)
    drop_closed_connections(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    redis_connection.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    configure_login(app)
    configure_metrics(app)
    watch_api_key_changes()


def register_blueprints(app: Flask) -> None:
    """Mount every feature's blueprint; ids in URLs are bounded to what PostgreSQL holds."""
    from webapp.admin import bp as admin_bp
    from webapp.alerts import bp as alerts_bp
    from webapp.api import bp as api_bp
    from webapp.api import docs_bp as api_docs_bp
    from webapp.auth import bp as auth_bp
    from webapp.bulk import bp as bulk_bp
    from webapp.fleet import bp as fleet_bp
    from webapp.inputs import bound_url_ids
    from webapp.inventory import bp as inventory_bp
    from webapp.ops import bp as ops_bp
    from webapp.sim_detail import bp as sim_detail_bp
    from webapp.sync import bp as sync_bp

    bound_url_ids(app)
    blueprints = (
        auth_bp,
        fleet_bp,
        inventory_bp,
        sim_detail_bp,
        bulk_bp,
        alerts_bp,
        sync_bp,
        admin_bp,
        ops_bp,
    )
    for blueprint in (*blueprints, api_bp, api_docs_bp):
        app.register_blueprint(blueprint)


def register_templates(app: Flask) -> None:
    """Template filters shared by every page."""
    from webapp.pages import register_template_helpers

    register_template_helpers(app)


def register_errors(app: Flask) -> None:
    """Render error pages for browsers and problem JSON for the API."""
    from webapp.errors import register_error_handlers

    register_error_handlers(app)


def register_request_hooks(app: Flask) -> None:
    """Request ids, the request log line, load shedding, security headers and proxy handling."""
    from webapp.load_shedding import register_load_shedding
    from webapp.observability import register_request_logging
    from webapp.security import register_security

    register_security(app)
    register_request_logging(app)
    register_load_shedding(app)


def register_commands(app: Flask) -> None:
    """Add the `flask --app wsgi ...` command groups."""
    from webapp.admin.cli import users_cli
    from webapp.alerts.cli import alerts_cli
    from webapp.apikeys.cli import apikeys_cli
    from webapp.sync.cli import once_cli, sync_cli

    for group in (users_cli, apikeys_cli, sync_cli, once_cli, alerts_cli):
        app.cli.add_command(group)
