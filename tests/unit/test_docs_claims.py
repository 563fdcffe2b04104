"""What the docs say is what the code does (issue 12 point 8): the sandbox's synthetic site names as
docs/sandbox.md describes them, and no document cites a file outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from outagesync.sandbox.synthetic import generate_dataset

ROOT = Path(__file__).parent.parent.parent
SANDBOX_DOC = (ROOT / "docs" / "sandbox.md").read_text()


@pytest.mark.parametrize(
    ("sites", "first", "last"), [(10, "site-01", "site-10"), (1000, "site-0001", "site-1000")]
)
def test_synthetic_site_names_are_as_documented(sites: int, first: str, last: str) -> None:
    assert f"`{first}`…`{last}` for" in SANDBOX_DOC
    dataset = generate_dataset(outages=sites * 20, devices=sites * 2, sites=sites, seed=1)
    names = sorted(dataset.sites)
    assert (names[0], names[-1], len(names)) == (first, last, sites)
    site = dataset.sites[first]
    assert site["name"] == "Synthetic Site 1"
    assert [device["name"] for device in site["devices"]][:2] == ["Battery 1", "Battery 2"]
    assert "each named `Synthetic Site N`" in SANDBOX_DOC.replace("\n", " ")


def test_no_document_cites_a_file_outside_the_repository() -> None:
    documents = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
    for document in documents:
        text = document.read_text()
        assert re.findall(r"\.\./(?:shared|krakenflex-data)\b", text) == [], document.name
        prose = re.sub(r"(`{3,})[\s\S]*?\1", "", text)  # links inside code examples are not citations
        for target in re.findall(r"\]\(([^)#\s]+)", prose):
            if "://" in target or target.startswith("mailto:"):
                continue
            resolved = (document.parent / target).resolve()
            assert resolved.is_relative_to(ROOT.resolve()), f"{document.name} cites {target}"
            assert resolved.exists(), f"{document.name} links to {target}, which does not exist"
