"""The access log keeps no secrets: values of query parameters that may hold one are written as `***`.

A logging.Filter on uvicorn's "uvicorn.access" logger, installed by `outagesync serve`; it rewrites the
request target uvicorn logs, nothing else (the request itself is untouched).
"""

from __future__ import annotations

import logging
from urllib.parse import unquote_plus

ACCESS_LOGGER = "uvicorn.access"
SECRET_WORDS = ("token", "key", "password", "secret")  # in a parameter's name, any case: its value is hidden
_TARGET = 2  # uvicorn logs (client, method, path?query, http version, status)


def redact_query(target: str) -> str:
    """`target` (a path and query, as logged) with the value of every secret-looking parameter as `***`."""
    path, mark, query = target.partition("?")
    if not mark:
        return target
    return f"{path}?{'&'.join(_redact_pair(pair) for pair in query.split('&'))}"


def _redact_pair(pair: str) -> str:
    name, equals, _value = pair.partition("=")
    if equals and any(word in unquote_plus(name).lower() for word in SECRET_WORDS):
        return f"{name}=***"
    return pair


class RedactSecrets(logging.Filter):
    """Hides secret query values in uvicorn's access records; lets every record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        target = args[_TARGET] if isinstance(args, tuple) and len(args) > _TARGET else None
        if isinstance(args, tuple) and isinstance(target, str):
            record.args = (*args[:_TARGET], redact_query(target), *args[_TARGET + 1 :])
        return True


def install_access_log_filter() -> None:
    """Redact uvicorn's access log from now on (once uvicorn has configured its logging)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, RedactSecrets) for existing in logger.filters):
        logger.addFilter(RedactSecrets())
