"""The job queue: procrastinate on the report database's PostgreSQL (docs/scale-out.md).
Built by bootstrap only."""
