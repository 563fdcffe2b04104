"""The KrakenFlex API adapter: the HTTP client (retries, error translation) and the strict decoders.

Implements the services' Upstream port; built by bootstrap only.
"""
