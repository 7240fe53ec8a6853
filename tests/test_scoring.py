"""Scoring: pairing rule, precision/recall/F1 and number recall/precision on real gold."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportsum.evaluation.gold import GoldDocument, load_gold
from reportsum.evaluation.scoring import (
    PRF,
    ScoreItem,
    combine,
    number_counts,
    pair_items,
    score_document,
    score_summary,
    span_overlap,
    text_similarity,
)
from reportsum.models import SECTIONS, DocumentInfo, DocumentSummary, RunInfo, SummaryItem

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_GOLD = ROOT / "eval" / "gold" / "examples" / "科技局2024年工作总结.json"


@pytest.fixture(scope="module")
def gold() -> GoldDocument:
    return load_gold(EXAMPLE_GOLD)


def as_items(doc: GoldDocument) -> dict[str, list[ScoreItem]]:
    return {
        name: [ScoreItem(i.text, i.evidence, i.span) for i in doc.section(name)]
        for name in SECTIONS
    }


def test_perfect_output_scores_one(gold: GoldDocument) -> None:
    s = score_document(as_items(gold), as_items(gold))
    assert s.overall.matched == len(gold.items) > 40
    assert (s.overall.precision, s.overall.recall, s.overall.f1) == (1.0, 1.0, 1.0)
    assert all(prf.f1 == 1.0 for prf in s.sections.values())
    assert s.numbers.gold > 50
    assert (s.numbers.recall, s.numbers.precision) == (1.0, 1.0)


def test_empty_output_scores_zero(gold: GoldDocument) -> None:
    s = score_document(as_items(gold), {})
    assert (s.overall.precision, s.overall.recall, s.overall.f1) == (0.0, 0.0, 0.0)
    assert (s.numbers.recall, s.numbers.f1) == (0.0, 0.0)
    assert s.pairs == ()


def test_missing_item_lowers_recall_by_exactly_one_over_n(gold: GoldDocument) -> None:
    predicted = as_items(gold)
    n = sum(len(v) for v in predicted.values())
    del predicted["measures"][3]
    s = score_document(as_items(gold), predicted)
    assert s.overall.recall == pytest.approx(1 - 1 / n)
    assert s.overall.precision == 1.0
    m = s.sections["measures"]
    assert m.recall == pytest.approx(1 - 1 / m.gold)
    assert s.sections["plans"].recall == 1.0


def test_paraphrase_with_the_same_evidence_pairs() -> None:
    g = [ScoreItem("研发经费投入18.6亿元，增长12.4%", "…", (100, 130))]
    p = [ScoreItem("全区研发投入较上年明显增加", "…", (100, 130))]
    assert text_similarity(g[0].text, p[0].text) < 0.6
    pairs = pair_items("achievements", g, p)
    assert [(x.gold_index, x.predicted_index) for x in pairs] == [(0, 0)]


def test_same_text_without_a_span_pairs() -> None:
    g = [ScoreItem("新认定高新技术企业56家", "x", (10, 30))]
    p = [ScoreItem("新认定高新技术企业56家", "x", None)]
    assert len(pair_items("achievements", g, p)) == 1


def test_unrelated_item_does_not_pair() -> None:
    g = [ScoreItem("新认定高新技术企业56家", "x", (10, 30))]
    p = [ScoreItem("举办科技活动周", "y", (200, 230))]
    assert pair_items("achievements", g, p) == []


def test_wrong_section_item_does_not_pair() -> None:
    item = ScoreItem("设立5亿元科创引导基金", "设立总规模5亿元的科创引导基金", (50, 65))
    s = score_document({"measures": [item]}, {"achievements": [item]})
    assert s.overall.matched == 0
    assert s.sections["measures"].recall == 0.0
    assert s.sections["achievements"].precision == 0.0


def test_two_predictions_cannot_both_claim_one_gold_item() -> None:
    g = [ScoreItem("设立5亿元科创引导基金", "e", (50, 65))]
    p = [ScoreItem("设立5亿元科创引导基金", "e", (50, 65)), ScoreItem("设立科创基金", "e", (50, 65))]
    s = score_document({"measures": g}, {"measures": p})
    assert s.overall == PRF(matched=1, gold=1, predicted=2)
    assert s.pairs[0].predicted_index == 0
    assert s.overall.precision == 0.5


def test_greedy_pairing_takes_the_best_pair_first() -> None:
    g = [ScoreItem("甲项目", "", (0, 20)), ScoreItem("乙项目", "", (20, 40))]
    # p1 is the best prediction for g0 too, but pairing g0 with it first would leave g1 with
    # nothing; highest score first gives g1 -> p1 and g0 -> p0.
    p = [ScoreItem("另外一段内容", "", (0, 8)), ScoreItem("乙项目", "", (10, 40))]
    pairs = pair_items("achievements", g, p)
    assert [(x.gold_index, x.predicted_index) for x in pairs] == [(0, 0), (1, 1)]


def test_evidence_overlap_must_cover_half_of_the_shorter_span() -> None:
    assert span_overlap((0, 10), (5, 30)) == (0.5, 5 / 30)
    g = [ScoreItem("完全不同的甲", "", (0, 10))]
    assert len(pair_items("problems", g, [ScoreItem("另一件乙事", "", (5, 30))])) == 1
    assert pair_items("problems", g, [ScoreItem("另一件乙事", "", (6, 30))]) == []


def test_text_similarity_threshold_is_point_six() -> None:
    base = "甲乙丙丁戊己庚辛壬癸"
    at = "甲乙丙丁戊己子丑寅卯"  # 6 of 10 shared: ratio 12/20
    below = "甲乙丙丁戊子丑寅卯辰"  # 5 of 10 shared: ratio 10/20
    assert text_similarity(base, at) == pytest.approx(0.6)
    assert len(pair_items("plans", [ScoreItem(base)], [ScoreItem(at)])) == 1
    assert pair_items("plans", [ScoreItem(base)], [ScoreItem(below)]) == []


def test_similarity_ignores_full_and_half_width_punctuation() -> None:
    assert text_similarity("投入18.6亿元，增长12.4%", "投入18.6亿元,增长12.4%") == 1.0


def test_number_recall_accepts_the_same_value_in_another_magnitude() -> None:
    counts = number_counts(["投入10.69亿元"], ["投入106900万元"])
    assert counts.recall == 1.0 and counts.precision == 1.0


def test_number_recall_rejects_percent_for_percentage_points() -> None:
    assert number_counts(["比上年提高7.72个百分点"], ["比上年提高7.72%"]).matched == 0


def test_number_recall_rejects_digit_swap() -> None:
    assert number_counts(["投入10.69亿元"], ["投入10.96亿元"]).matched == 0


def test_number_precision_counts_figures_not_in_gold() -> None:
    counts = number_counts(["新认定高新技术企业56家"], ["新认定高新技术企业56家，总数412家"])
    assert (counts.matched, counts.gold, counts.predicted) == (1, 1, 2)
    assert counts.precision == 0.5 and counts.recall == 1.0


def test_redacted_figures_are_not_counted() -> None:
    assert number_counts(["xx家企业获评"], ["xx家企业获评"]) == PRF(0, 0, 0)


def test_combine_is_a_micro_average(gold: GoldDocument) -> None:
    perfect = score_document(as_items(gold), as_items(gold))
    empty = score_document(as_items(gold), {})
    both = combine([perfect, empty])
    assert both.documents == 2
    assert both.overall.recall == 0.5
    assert both.overall.precision == 1.0
    assert both.numbers.recall == 0.5


def test_to_dict_names_every_f1_key_f1(gold: GoldDocument) -> None:
    d = score_document(as_items(gold), as_items(gold)).to_dict()
    assert d["overall"]["f1"] == 1.0
    assert all(s["f1"] == 1.0 for s in d["sections"].values())
    assert set(d["numbers"]) >= {"recall", "precision", "f1"}
    assert not any("f1" in k and k != "f1" for k in _all_keys(d))


def _all_keys(d: object) -> list[str]:
    if isinstance(d, dict):
        return [k for k, v in d.items() for k in (k, *_all_keys(v))]
    if isinstance(d, list):
        return [k for v in d for k in _all_keys(v)]
    return []


def test_unknown_section_is_rejected() -> None:
    with pytest.raises(KeyError, match="unknown section 'outcomes'"):
        score_document({"outcomes": []}, {})


def test_scores_a_document_summary_against_gold(gold: GoldDocument) -> None:
    summary = DocumentSummary(
        document=DocumentInfo(source="x.txt", sha256="0" * 64, chars=len(gold.document_text)),
        run=RunInfo(backend="test"),
        achievements=[
            SummaryItem(text=i.text, evidence=i.evidence, span=i.span)
            for i in gold.section("achievements")
        ],
    )
    s = score_summary(gold, summary)
    assert s.sections["achievements"].f1 == 1.0
    assert s.sections["plans"].recall == 0.0
    assert s.overall.precision == 1.0
