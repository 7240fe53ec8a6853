from __future__ import annotations

from collections import Counter

import pytest
from helpers import EXAMPLES, seed_files

from reportsum.stages.chunk import Chunk, chunk
from reportsum.stages.sentences import sentence_spans

_CN = "一二三四五六七八九十"


def _paragraph(section: int, k: int) -> str:
    """A paragraph in the genre, ~130 characters, distinct per (section, k)."""
    return (
        f"第{section}项重点工作中,全区组织企业申报科技项目{section * 10 + k}项,"
        f"获批省级以上项目{k + 3}项,争取上级资金{section}.{k}亿元,比上年同期增长{k + 10}.5%。"
        f"我们通过上门走访、专家辅导等方式,动员企业加大研发投入,企业创新能力明显提高。"
        f"同时完善了科技项目库,累计入库项目{k * 7 + section}个。"
    )


def _report(sections: int = 5, paragraphs: int = 8, edit: tuple[int, int] | None = None) -> str:
    parts = ["区科技局年度工作总结\n"]
    for s in range(1, sections + 1):
        parts.append(f"{_CN[s - 1]}、第{s}方面工作情况\n")
        for k in range(paragraphs):
            p = _paragraph(s, k)
            if edit == (s, k):
                p += "全年还举办科技政策宣讲会五场,走访规上企业八十余家,帮助企业解决技术难题和融资需求。" * 3
            parts.append(p + "\n")
    return "".join(parts)


def _check_invariants(text: str, chunks: list[Chunk], max_chars: int) -> None:
    assert [c.index for c in chunks] == list(range(len(chunks)))
    pos = 0
    for c in chunks:
        assert text[c.start:c.start + len(c.text)] == c.text
        assert text[pos:c.start].strip() == "", "only whitespace may be skipped between chunks"
        assert c.text == c.text.strip()
        pos = c.start + len(c.text)
    assert text[pos:].strip() == ""
    bounds = [(c.start, c.start + len(c.text)) for c in chunks]
    for s, e in sentence_spans(text):
        inside = [b for b in bounds if b[0] <= s and e <= b[1]]
        assert len(inside) == 1, f"sentence {text[s:e][:20]!r} is cut"
    for c in chunks:
        if len(c.text) > max_chars:
            assert len(sentence_spans(c.text)) == 1, "only a lone long sentence may exceed the budget"


def test_chunks_cover_the_text_with_whole_sentences_within_budget():
    text = _report()
    chunks = chunk(text, max_chars=600)
    assert len(chunks) >= 10
    _check_invariants(text, chunks, 600)


def test_a_sentence_longer_than_the_budget_is_its_own_chunk():
    long = "全区" + "、".join(f"第{i}家企业完成技术改造" for i in range(40)) + "。"
    text = f"一、工作成效\n开头一句话说明情况。{long}结尾一句话。\n"
    chunks = chunk(text, max_chars=200)
    assert long in [c.text for c in chunks]
    _check_invariants(text, chunks, 200)


def test_a_small_text_is_one_chunk():
    text = "一、工作成效\n全年新增高新技术企业12家。\n二、存在问题\n经费不足。"
    (only,) = chunk(text)
    assert only.text == text and only.start == 0


def test_empty_text_has_no_chunks():
    assert chunk("  \n ") == []


def test_rejects_a_non_positive_budget():
    with pytest.raises(ValueError, match="max_chars"):
        chunk("科技工作取得进展。", max_chars=0)


def test_chunks_are_packed_across_sections_and_headings_give_context():
    text = _report(sections=3, paragraphs=6)
    chunks = chunk(text, max_chars=500)
    _check_invariants(text, chunks, 500)
    # Filled across section boundaries: some chunk holds the end of one section and the
    # heading and start of the next; anchors (for stability under edits) end some chunks early,
    # yet they average over 0.4 of the budget.
    assert any("第1项" in c.text and "第2项" in c.text for c in chunks)
    assert sum(len(c.text) for c in chunks) / len(chunks) >= 200
    # The title is not a chunk of its own; it travels with what follows it.
    assert chunks[0].text.startswith("区科技局年度工作总结\n一、第1方面工作情况\n第1项")
    for s in range(1, 4):
        heading = f"{_CN[s - 1]}、第{s}方面工作情况"
        assert len([c for c in chunks if heading in c.text]) == 1
        inner = [c for c in chunks if c.text.startswith(f"第{s}项重点工作")]
        assert inner and all(c.heading == f"第{s}方面工作情况" for c in inner)
    assert chunks[0].heading is None


def test_a_document_within_the_budget_is_one_chunk():
    text = _report(sections=3, paragraphs=4)
    assert len(text) < 6000
    (only,) = chunk(text)
    assert only.text == text.strip() and only.start == 0
    (demo,) = chunk(next(EXAMPLES.glob("*.txt")).read_text(encoding="utf-8"))
    assert demo.heading is None


def test_a_chunk_never_ends_with_a_bare_heading():
    text = _report(sections=4, paragraphs=3)
    for c in chunk(text, max_chars=300):
        last = c.text.splitlines()[-1]
        assert not last.endswith("工作情况"), c.text


def test_editing_one_paragraph_changes_at_most_two_chunks():
    before = chunk(_report(), max_chars=600)
    assert len(before) >= 10
    for section in range(1, 6):
        for k in range(8):
            after = chunk(_report(edit=(section, k)), max_chars=600)
            changed = Counter(c.text for c in after) - Counter(c.text for c in before)
            assert 1 <= sum(changed.values()) <= 2, (section, k)


def test_is_deterministic():
    text = _report()
    assert chunk(text, max_chars=700) == chunk(text, max_chars=700)


def test_seed_chunks_keep_the_invariants():
    for path in seed_files():
        text = path.read_text(encoding="utf-8")
        for budget in (400, 1800, 6000):
            _check_invariants(text, chunk(text, max_chars=budget), budget)
