"""The REST API's routes, one module per resource; no route module imports another (import-linter)."""
