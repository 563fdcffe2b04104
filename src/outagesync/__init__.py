"""outagesync: keep each energy site's outage list on the KrakenFlex platform correct."""

__version__ = "0.1.0"
