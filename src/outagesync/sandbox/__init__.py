"""The sandbox: a fake KrakenFlex API server that follows the API spec, with fault injection.

It imports nothing else of outagesync (domain, services, adapters, presenters, config, errors...), so it
cannot share the client's bugs; import-linter checks it. Not an adapter: it implements no port.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The documented key for local use: only ever a default, never a secret.
DEFAULT_API_KEY = "sandbox-api-key"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8181

if TYPE_CHECKING:
    from outagesync.sandbox.app import RequestRecord
    from outagesync.sandbox.data import Dataset, load_dataset_file, load_default_dataset
    from outagesync.sandbox.faults import (
        DropConnection,
        FailFirst,
        Fault,
        Latency,
        RateLimit,
        ServerError,
        TruncatedBody,
    )
    from outagesync.sandbox.server import Sandbox
    from outagesync.sandbox.synthetic import generate_dataset

# Public names, imported on first use so that importing the package (the pytest plugin, the CLI's --help)
# stays cheap: the server pulls in uvicorn and asyncio.
_EXPORTS = {
    "Dataset": "data",
    "load_dataset_file": "data",
    "load_default_dataset": "data",
    "DropConnection": "faults",
    "FailFirst": "faults",
    "Fault": "faults",
    "Latency": "faults",
    "RateLimit": "faults",
    "ServerError": "faults",
    "TruncatedBody": "faults",
    "Sandbox": "server",
    "RequestRecord": "app",
    "generate_dataset": "synthetic",
}

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "Dataset",
    "DropConnection",
    "FailFirst",
    "Fault",
    "Latency",
    "RateLimit",
    "RequestRecord",
    "Sandbox",
    "ServerError",
    "TruncatedBody",
    "generate_dataset",
    "load_dataset_file",
    "load_default_dataset",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_EXPORTS[name]}")
    return getattr(module, name)
