"""The diff of two outage lists (domain/diff.py): exact on examples, a faithful edit script on any lists."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from outagesync.domain.diff import ItemChange, diff_items
from outagesync.domain.models import SiteOutage


def _item(device: str, begin: str, end: str = "2022-02-01T00:00:00.000Z", name: str = "") -> SiteOutage:
    return SiteOutage(id=device, name=name or f"Battery {device}", begin=begin, end=end)


A = _item("a", "2022-01-01T00:00:00.000Z")
B = _item("b", "2022-01-02T00:00:00.000Z")
C = _item("c", "2022-01-03T00:00:00.000Z")


def test_added_removed_and_unchanged() -> None:
    diff = diff_items([A, B], [B, C])
    assert diff.added == (C,)
    assert diff.removed == (A,)
    assert diff.changed == ()
    assert diff.unchanged == 1
    assert diff.summary == "+1 -1 ~0 =1"
    assert not diff.is_empty


def test_a_new_end_or_name_is_a_change_of_the_same_outage() -> None:
    later = _item("a", A.begin, end="2022-03-01T00:00:00.000Z")
    renamed = _item("b", B.begin, name="Battery Bee")
    diff = diff_items([A, B], [later, renamed])
    assert diff.changed == (ItemChange(A, later), ItemChange(B, renamed))
    assert [change.fields for change in diff.changed] == [("end",), ("name",)]
    assert diff.added == diff.removed == ()
    assert diff.unchanged == 0


def test_repeated_items_are_counted_one_for_one() -> None:
    diff = diff_items([A, A, B], [A, B, B])
    assert diff.unchanged == 2
    assert diff.added == (B,)
    assert diff.removed == (A,)


def test_same_lists_in_any_order_have_no_diff() -> None:
    diff = diff_items([A, B, C], [C, A, B])
    assert diff.is_empty
    assert diff.unchanged == 3
    assert diff.summary == "+0 -0 ~0 =3"


def test_from_and_to_an_empty_list() -> None:
    assert diff_items([], [A, B]).added == (A, B)
    assert diff_items([B, A], []).removed == (A, B)


_items = st.lists(
    st.builds(
        SiteOutage,
        id=st.sampled_from("abc"),
        name=st.sampled_from(["x", "y"]),
        begin=st.sampled_from(["2022-01-01T00:00:00.000Z", "2022-06-01T00:00:00.000Z"]),
        end=st.sampled_from(["2022-07-01T00:00:00.000Z", "2022-08-01T00:00:00.000Z"]),
    ),
    max_size=8,
)


@given(_items, _items)
def test_the_diff_turns_before_into_after(before: list[SiteOutage], after: list[SiteOutage]) -> None:
    diff = diff_items(before, after)
    result = Counter(before)
    result.subtract(diff.removed)
    result.subtract(change.before for change in diff.changed)
    result.update(diff.added)
    result.update(change.after for change in diff.changed)
    assert +result == Counter(after)
    assert min(result.values(), default=0) >= 0  # nothing removed that was not there
    assert diff.unchanged + len(diff.added) + len(diff.changed) == len(after)
    assert diff.unchanged + len(diff.removed) + len(diff.changed) == len(before)
    for change in diff.changed:
        assert (change.before.id, change.before.begin) == (change.after.id, change.after.begin)
        assert change.fields
    assert diff.is_empty == (Counter(before) == Counter(after))
