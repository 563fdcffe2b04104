"""`outagesync serve`: the REST API under uvicorn. Parse flags, check where it may listen, run.

Heavy modules (uvicorn, FastAPI, SQLAlchemy) are imported inside the command, so `--help` stays fast.
"""

from __future__ import annotations

import logging
import signal
import socket
from typing import TYPE_CHECKING, Annotated

import typer

from outagesync.defaults import GRACEFUL_TIMEOUT_S
from outagesync.entrypoints.cli.exit_codes import ExitCode

if TYPE_CHECKING:
    from fastapi import FastAPI

REFUSE_WITHOUT_AUTH = (
    "refusing to listen on {host}: no API token is configured, so anyone who can reach the server "
    "could use it. Set OUTAGESYNC_API_TOKEN (for example to the output of "
    "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`), or listen on 127.0.0.1"
)


def serve_command(
    host: Annotated[
        str,
        typer.Option(
            metavar="HOST",
            help="Address to listen on. Anything but loopback (127.0.0.1, ::1, localhost) needs "
            "OUTAGESYNC_API_TOKEN.",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, metavar="PORT", help="TCP port (0: any free port).")
    ] = 8000,
    graceful_timeout: Annotated[
        int,
        typer.Option(
            min=0,
            metavar="SECONDS",
            help="On shutdown, seconds to let in-flight requests finish; syncs still running then are "
            "stopped and recorded as interrupted.",
        ),
    ] = GRACEFUL_TIMEOUT_S,
) -> None:
    """Serve the REST API (docs at /docs) until stopped; settings from the environment and .env.

    Every endpoint but /which and /check needs "Authorization: Bearer <OUTAGESYNC_API_TOKEN>".

    Without a token, the server listens on loopback only and needs none from loopback clients.

    Exit codes: 0 stopped, 1 cannot listen on that address, 2 configuration error.

    Environment: OUTAGESYNC_API_TOKEN, KRAKENFLEX_API_KEY, KRAKENFLEX_API_URL, OUTAGESYNC_DATABASE_URL,
    OUTAGESYNC_TRUSTED_PROXIES

    Examples:
        outagesync serve
        outagesync serve --port 8080 --graceful-timeout 60
        outagesync serve --host 0.0.0.0  # with OUTAGESYNC_API_TOKEN set
    """
    from outagesync.config import load_settings
    from outagesync.entrypoints.api import create_app
    from outagesync.entrypoints.api.deps import configured_token, is_loopback
    from outagesync.entrypoints.cli.console import fail
    from outagesync.errors import ConfigError, OutageSyncError

    try:
        settings = load_settings()
        if configured_token(settings) is None and not is_loopback(host):
            raise ConfigError(REFUSE_WITHOUT_AUTH.format(host=host))
        app = create_app(settings)
    except OutageSyncError as exc:
        fail(exc)
    try:
        # Bound here, not in uvicorn, so that a busy port is one clear line (and exit 1).
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host.strip("[]"), port), family=family)
    except OSError as exc:
        _say(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}")
        raise typer.Exit(ExitCode.FAILED) from None
    with sock:
        _run(app, sock, graceful_timeout_s=graceful_timeout, trusted_proxies=settings.trusted_proxies)


def _run(app: FastAPI, sock: socket.socket, *, graceful_timeout_s: int, trusted_proxies: str | None) -> None:
    import uvicorn

    from outagesync import bootstrap
    from outagesync.entrypoints.api.access_log import install_access_log_filter

    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    _say(f"outagesync API on http://{shown}:{port} (docs at /docs); Ctrl-C to stop")
    json_logs = bootstrap.json_logs()
    config = uvicorn.Config(
        app,
        # with JSON logs, uvicorn's loggers go through the root handler (JSON lines) like every other
        log_config=None if json_logs else uvicorn.config.LOGGING_CONFIG,
        timeout_graceful_shutdown=graceful_timeout_s,
        server_header=False,
        # X-Forwarded-For only from OUTAGESYNC_TRUSTED_PROXIES (uvicorn would trust 127.0.0.1 by default,
        # so a local client could pass for any other one)
        proxy_headers=trusted_proxies is not None,
        forwarded_allow_ips=trusted_proxies or "",
    )
    if json_logs:
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            logger = logging.getLogger(name)
            logger.handlers.clear()
            logger.propagate = True
            logger.setLevel(logging.INFO)  # its access and start-up lines, as without JSON logs
    install_access_log_filter()  # after uvicorn.Config, which configures logging
    # uvicorn handles SIGTERM/SIGINT itself (stop accepting, finish or cancel requests), then raises the
    # signal again once it has restored the handlers it found: these make that a clean exit 0
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)
    uvicorn.Server(config).run(sockets=[sock])


def _say(message: str) -> None:
    """A line on stderr (a log record with JSON logs); under --quiet, errors only."""
    from outagesync.entrypoints.cli.console import stderr

    stderr(error=message.startswith("error")).print(message, markup=False)
