from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reportsum.stages.textmap import MappedText

ORIGINAL = "欢迎光临!\n科技局工作总结 現(xiàn)在产值10.69亿元。\n文档评论(0)"


def test_identity_maps_every_offset_to_itself():
    m = MappedText.identity(ORIGINAL)
    assert m.text == ORIGINAL
    assert all(m.to_original(i) == i for i in range(len(ORIGINAL)))


def test_delete_keeps_map_back_to_original():
    m = MappedText.identity(ORIGINAL)
    noise = [(0, ORIGINAL.index("科")), (ORIGINAL.index("(xi"), ORIGINAL.index("在")),
             (ORIGINAL.index("文档"), len(ORIGINAL))]
    cleaned = m.delete(noise)
    assert cleaned.text == "科技局工作总结 現在产值10.69亿元。\n"
    for i, ch in enumerate(cleaned.text):
        assert ORIGINAL[cleaned.to_original(i)] == ch
    s = cleaned.text.index("10.69亿元")
    a, b = cleaned.span_to_original(s, s + len("10.69亿元"))
    assert ORIGINAL[a:b] == "10.69亿元"


def test_span_across_a_deletion_covers_the_deleted_noise_in_the_original():
    cleaned = MappedText.identity(ORIGINAL).delete([(ORIGINAL.index("(xi"), ORIGINAL.index("在"))])
    s = cleaned.text.index("現在")
    a, b = cleaned.span_to_original(s, s + 2)
    assert ORIGINAL[a:b] == "現(xiàn)在"


def test_slice_of_slice_still_maps_to_the_original():
    m = MappedText.identity(ORIGINAL).delete([(0, 6)])
    inner = m.slice(3, 12).slice(2, 6)
    for i, ch in enumerate(inner.text):
        assert ORIGINAL[inner.to_original(i)] == ch


def test_from_keep_rejects_overlapping_ranges():
    import pytest

    with pytest.raises(ValueError):
        MappedText.from_keep("abcdef", [(0, 3), (2, 4)])


@given(
    text=st.text(alphabet="科技局总结亿万元0123456789。,\n ", min_size=0, max_size=60),
    cuts=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=6),
)
def test_any_deletion_maps_every_kept_character_back(text, cuts):
    spans = [(min(a, b), max(a, b)) for a, b in cuts]
    cleaned = MappedText.identity(text).delete(spans)
    deleted = set()
    for a, b in spans:
        deleted.update(range(a, min(b, len(text))))
    assert cleaned.text == "".join(ch for i, ch in enumerate(text) if i not in deleted)
    originals = [cleaned.to_original(i) for i in range(len(cleaned.text))]
    assert originals == sorted(set(originals))
    assert all(text[o] == cleaned.text[i] for i, o in enumerate(originals))


@given(
    text=st.text(alphabet="科技局总结亿万元0123456789。,\n ", min_size=0, max_size=60),
    first=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=6),
    second=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=6),
)
def test_deleting_from_a_mapped_text_matches_slicing_and_concatenating(text, first, second):
    """Deletes on a text with several runs (as cleaning chains them) keep exactly the map that
    slicing out the kept ranges and concatenating them gives."""
    once = MappedText.identity(text, offset=7).delete([(min(a, b), max(a, b)) for a, b in first])
    spans = [(min(a, b), max(a, b)) for a, b in second]
    twice = once.delete(spans)
    deleted = {i for a, b in spans for i in range(a, b)}
    kept = [i for i in range(len(once.text)) if i not in deleted]
    keep: list[tuple[int, int]] = []  # runs of consecutive kept offsets
    for i in kept:
        if keep and keep[-1][1] == i:
            keep[-1] = (keep[-1][0], i + 1)
        else:
            keep.append((i, i + 1))
    expected = MappedText.concat([once.slice(s, e) for s, e in keep])
    assert (twice.text, twice.runs) == (expected.text, expected.runs)
