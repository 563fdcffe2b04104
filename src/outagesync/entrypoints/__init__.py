"""Entrypoints: the CLI and the REST API. Parse, call a use case, render; no business logic."""
