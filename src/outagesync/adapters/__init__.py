"""Adapters: the concrete I/O behind the service ports (upstream client, storage) and the sandbox server."""
