"""Telemetry adapters: Prometheus metrics, OpenTelemetry traces, Sentry and Rollbar error reports, JSON logs.

Built by bootstrap from Settings. Importing this package imports nothing third-party: each library is
imported by the part that is switched on, so a process with telemetry off loads none of them.
"""
