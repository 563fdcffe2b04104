"""Presenters: results, reports and managed sites as the one JSON shape of `--json` and the REST API."""
