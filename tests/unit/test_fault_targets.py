"""A fault target must be able to match some upstream request (the sandbox CLI refuses one that cannot)."""

from __future__ import annotations

import pytest

from outagesync.sandbox.faults import Target


@pytest.mark.parametrize(
    ("text", "reaches"),
    [
        (None, True),
        ("GET", True),
        ("POST", True),
        ("/outages", True),
        ("GET /outages", True),
        ("GET /site-info", True),
        ("GET /site-info/norwich-pear-tree", True),
        ("POST /site-outages/kingfisher", True),
        ("/site", False),  # a prefix is a whole path segment
        ("POST /outages", False),
        ("GET /site-outages", False),
        ("GET /outages/x", False),
        ("PUT", False),
        ("/nonsense", False),
    ],
)
def test_a_target_reaches_an_endpoint_only_if_a_request_can_match_it(text: str | None, reaches: bool) -> None:
    assert Target.parse(text).reaches_an_endpoint() is reaches
