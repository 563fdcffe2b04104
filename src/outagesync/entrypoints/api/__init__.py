"""The REST API (FastAPI): the CLI's use cases over HTTP. `create_app(settings)` builds it.

deps.py: what routes need (state, store, upstream, token); problems.py: errors as RFC 9457 problems;
middleware.py: body limit; schemas.py: wire models; routes/: one module per resource.
"""

from outagesync.entrypoints.api.app import create_app

__all__ = ["create_app"]
