"""The defaults and limits of outagesync, each in one place. Imports nothing; everything may import it.

Settings (config.py) take their defaults from here, so the README's table, `--help` and the adapters agree.
"""

from __future__ import annotations

DEFAULT_SITE = "norwich-pear-tree"
DEFAULT_API_URL = "https://api.krakenflex.systems/interview-tests-mock-api/v1"
DEFAULT_SINCE = "2022-01-01T00:00:00.000Z"

# retries and timeouts of upstream requests (seconds)
MAX_ATTEMPTS = 5
BACKOFF_INITIAL_S = 0.5
BACKOFF_MAX_S = 30.0
RETRY_AFTER_MAX_S = 60.0
RATE_LIMIT_MAX_ATTEMPTS = 3
RATE_LIMIT_SLOWDOWN = 4.0  # a 429 without Retry-After backs off this many times slower than a 5xx
TIMEOUT_S = 30.0
DEADLINE_S = 300.0

CONCURRENCY = 8  # sites in flight at once
LOCK_WAIT_S = 30.0  # how long a sync waits for a site another sync holds, before that site is `site-busy`
REPORT_ITEMS_MAX = 10_000  # posted items kept per stored report; beyond, their digest and count

# pages
MAX_PAGE_SIZE = 500
REPORTS_PAGE_SIZE = 50  # REST GET /reports
REPORTS_PAGE_SIZE_CLI = 20  # `outagesync reports list`: a screenful
SITES_PAGE_SIZE = 100  # REST GET /sites
PREVIEW_ITEMS = 1000  # REST GET /sites/{id}/outages
PREVIEW_ITEMS_MAX = 10_000
INVALID_RECORDS_MAX = 1_000  # a failed GET /outages lists this many bad records (the total is exact)
INVALID_RECORDS_SHOWN = 20  # the CLI lists this many skipped records per site, then counts the rest

API_MAX_BODY_BYTES = 64 * 1024
SYNC_WAIT_S = 50.0  # a REST sync answers within this; a sync still running then goes on (202 Accepted)
GRACEFUL_TIMEOUT_S = 30

# the job queue (docs/scale-out.md)
BATCH_SIZE = 200  # sites per job: one GET /outages each
JOB_RETRIES = 3  # jobs for the sites of a job that failed transiently, one after the other
JOB_BACKOFF_S = 30.0  # before the first such retry; doubled for each next one
WORKER_CONCURRENCY = 2  # jobs one worker runs at once (each with OUTAGESYNC_CONCURRENCY sites in flight)
STALL_TIMEOUT_S = 30.0  # a worker silent (no heartbeat) this long is dead: its jobs run again
JOBS_PAGE_SIZE = 50  # REST GET /jobs and `jobs list`
