from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import seed

from reportsum.backends.rules import (
    CHARS_PER_ITEM,
    LONG_REPORT,
    RulesBackend,
    extract_candidates,
    rank_candidates,
    section_cap,
)
from reportsum.grounding.ground import GroundingSource
from reportsum.stages.chunk import chunk

# A report in the genre, written for these tests: outline headings, a lead-in, figures,
# a problems and a plans section, and scraped-page noise around it.
REPORT = """欢迎来到范文网!本站文档仅供参考,下载请点击这里。
某县科学技术局2023年工作总结
2023年,县科技局在县委、县政府的正确领导下,认真贯彻落实科技创新大会精神,现将全年工作总结如下:
一、主要工作成效
全县高新技术产业产值达到86.4亿元,同比增长12.5%,占规上工业产值的比重达到41.2%。
新认定国家高新技术企业23家,累计达到118家。
全县专利授权量达到1206件,比上年增长8.3%,其中发明专利授权97件。
二、主要工作措施
（一）加强政策引导
出台《县科技创新十条》,设立科技创新专项资金2000万元。
（二）深化产学研合作
组织36家企业赴高校开展产学研对接活动,签约合作项目19项。
加强科技特派员队伍建设,选派科技特派员42名深入企业和村社开展服务。
三、存在问题
一是企业研发投入总体不足,研发经费占营业收入比重偏低。二是高层次科技人才较少,引才留才难度较大。三是经费不足。
四、2024年工作打算
一是力争新增高新技术企业30家以上。二是继续推进科技企业孵化器建设,打造众创空间2个。
县科学技术局
2023年12月28日
相关文档 热门文章 投稿邮箱
"""


def _items(text: str, **kw: int) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"achievements": [], "measures": [], "problems": [], "plans": []}
    for c in extract_candidates(text, **kw):
        out[c.section].append(c.text)
    return out


def test_items_are_verbatim_slices_with_their_offset_as_hint():
    cands = extract_candidates(REPORT)
    assert cands
    for c in cands:
        assert c.text == c.evidence
        assert c.hint is not None and REPORT[c.hint:c.hint + len(c.text)] == c.text
        assert c.text == c.text.strip("，,。；; \n")
    assert [c.hint for c in cands] == sorted(c.hint for c in cands)


def test_classifies_by_section_headings():
    got = _items(REPORT)
    assert "全县高新技术产业产值达到86.4亿元,同比增长12.5%,占规上工业产值的比重达到41.2%" in got["achievements"]
    assert "新认定国家高新技术企业23家,累计达到118家" in got["achievements"]
    assert any(t.startswith("出台《县科技创新十条》") for t in got["measures"])
    assert got["problems"] == [
        "一是企业研发投入总体不足,研发经费占营业收入比重偏低",
        "二是高层次科技人才较少,引才留才难度较大",
        "三是经费不足",
    ]
    assert got["plans"] == ["一是力争新增高新技术企业30家以上", "二是继续推进科技企业孵化器建设,打造众创空间2个"]


def test_skips_headings_boilerplate_lead_ins_and_sign_offs():
    texts = [c.text for c in extract_candidates(REPORT)]
    joined = "\n".join(texts)
    for noise in ("下载", "热门文章", "总结如下", "主要工作成效", "加强政策引导", "县科学技术局\n", "12月28日"):
        assert noise not in joined
    assert all(len(re.findall(r"[\u4e00-\u9fff]", t)) >= 4 for t in texts)


def test_classifies_by_cue_words_without_headings():
    text = ("今年以来,全镇申请专利70件,同比增长25%。镇党委召开专题会议,组织开展科技活动周宣传活动。"
            "下一步将继续加大科技投入力度,推动企业技术改造。当前农村基层科普网络建设仍较薄弱。")
    got = _items(text)
    assert got["achievements"] == ["全镇申请专利70件,同比增长25%"]
    assert got["measures"] == ["镇党委召开专题会议,组织开展科技活动周宣传活动"]
    assert got["plans"] == ["下一步将继续加大科技投入力度,推动企业技术改造"]
    assert got["problems"] == ["当前农村基层科普网络建设仍较薄弱"]


def test_a_shortfall_that_was_addressed_is_a_measure_not_a_problem():
    text = "针对科技型企业融资难、资金不足的问题,引进科技专营银行,设立风险补偿资金。"
    got = _items(text)
    assert got["problems"] == []
    assert got["measures"]


def test_splits_a_long_sentence_keeping_each_figure_with_its_subject():
    text = ("全市专利申请量达到83334件,比上年同期增长13.2%(其中发明专利申请9811件,增长32.8%),"
            "专利授权量达到58406件,比上年同期下降1.3%(其中发明专利授权2246件,增长8.8%),"
            "在专利授权总量增长趋缓的形势下,授权专利结构进一步优化。")
    got = _items(text)["achievements"]
    assert got[0] == "全市专利申请量达到83334件,比上年同期增长13.2%(其中发明专利申请9811件,增长32.8%)"
    assert got[1].startswith("专利授权量达到58406件,比上年同期下降1.3%")


def test_caps_each_section_by_score():
    lines = [f"第{i}批企业通过认定,新增高新技术企业{i}家。" for i in range(1, 31)]
    lines[7] = "第8批企业通过认定,新增高新技术企业8家,同比增长20%,累计达到160家。"
    text = "\n".join(lines)
    got = extract_candidates(text, max_items=5)
    kept = [c for c in got if not c.minor]
    cap = section_cap(text, 5)
    assert 5 <= cap < 30 and len(kept) == cap
    assert any("累计达到160家" in c.text for c in kept), "the item with most figures scores highest"
    # the rest is ranked out, not lost: minor candidates after the kept ones
    assert len(got) == 30 and all(c.minor for c in got[cap:])
    assert len(extract_candidates(text, max_items=5, all_items=True)) == 30


def test_backend_extract_maps_items_to_chunks():
    chunks = chunk(REPORT, max_chars=200)
    assert len(chunks) > 2
    result = asyncio.run(RulesBackend().extract(REPORT, chunks, grounding=GroundingSource(REPORT)))
    assert result.candidates == extract_candidates(REPORT, chunks)
    for c in result.candidates:
        holder = chunks[c.chunk_index]
        assert holder.start <= c.hint < holder.start + len(holder.text)
    assert RulesBackend.name == "rules" and RulesBackend.model is None


def test_rejects_a_non_positive_cap():
    with pytest.raises(ValueError, match="max_items"):
        RulesBackend(max_items=0)


# ---------------------------------------------------------------- seeds

_BOILERPLATE = re.compile(
    r"文档|下载|VIP|版权|本站|网站|400-050|热门文章|相关文档|来源于|欢迎|投稿|全文共|省略|未完|"
    r"点击|收藏|\.docx?|会员|关键词|关 键 词"
)


def _documents(path: Path) -> list[str]:
    """The reports of a seed file: through clean and split when they exist, otherwise a
    minimal stand-in (drop ruby pinyin, cut at 第N篇)."""
    raw = path.read_text(encoding="utf-8")
    try:
        from reportsum.stages.clean import clean  # type: ignore[import-not-found]
        from reportsum.stages.split import split  # type: ignore[import-not-found]
    except ImportError:
        text = re.sub(r"\([a-zü]{1,6}\)", "", raw)
        starts = [m.start() for m in re.finditer(r"(?m)^第[一二三四五六七八九十]+篇", text)]
        bounds = [0, *[s for s in starts if s > 0], len(text)]
        return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if text[a:b].strip()]
    return [part.text.text for part in split(clean(raw).text)]


def _seed_items(prefix: str) -> list[tuple[str, dict[str, list[str]]]]:
    out = []
    for doc in _documents(seed(prefix)):
        items = _items(doc)
        for section in items.values():
            for t in section:
                assert t in doc
        out.append((doc, items))
    return out


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_every_seed_report_gets_achievements_and_no_boilerplate(prefix: str):
    for doc, items in _seed_items(prefix):
        is_plan_only = "科技发展" in doc[:40] and "规划" in doc[:40]
        assert is_plan_only or items["achievements"], doc[:40]
        for section, texts in items.items():
            for t in texts:
                assert not _BOILERPLATE.search(t), (section, t)


def test_seed_003_gets_problems_and_plans():
    ((_, items),) = [d for d in _seed_items("003") if "科技" in d[0]][:1]
    assert any("水平不高" in t for t in items["problems"])
    assert any("翻番" in t for t in items["plans"])


def test_seed_004_plan_and_2018_report_get_plans_and_problems():
    docs = _seed_items("004")
    (plan,) = [i for d, i in docs if "科技发展" in d[:40] and "规划" in d[:40]]
    (y2018,) = [i for d, i in docs if "2018年科技创新工作总结" in d[:40]]
    assert len(plan["plans"]) >= 5 and not plan["problems"]
    assert "三是经费不足" in y2018["problems"]
    assert any("科普网络" in t for t in y2018["problems"])


def test_seed_000_keeps_the_headline_figures():
    ((_, items),) = _seed_items("000")[:1]
    joined = "\n".join(items["achievements"])
    for figure in ("10.69亿元", "5.27亿元", "113.6亿元", "7.72个百分点", "1478万元"):
        assert figure in joined


# ---------------------------------------------------------------- time and role (issue 15)


def test_counted_activities_are_measures_and_results_are_achievements():
    text = ("一、主要成效\n全年组织开展专利导航培训4期,参训企业负责人320人次。"
            "新认定高新技术企业28家,同比增长12%。走访企业186家次,协调解决技术难题41个。")
    got = _items(text)
    assert "全年组织开展专利导航培训4期,参训企业负责人320人次" in got["measures"]
    assert "走访企业186家次,协调解决技术难题41个" in got["measures"]
    assert "新认定高新技术企业28家,同比增长12%" in got["achievements"]


def test_a_completion_heading_is_a_prior_not_a_verdict_and_a_target_run_stays_plans():
    text = ("一、目标责任完成情况\n全年完成研发投入3.6亿元,完成全年任务的112%。\n"
            "二、明年工作打算\n力争新增高新技术企业10家;技术合同成交额突破5亿元;新建市级众创空间2个。")
    got = _items(text)
    assert got["achievements"] == ["全年完成研发投入3.6亿元,完成全年任务的112%"]
    assert got["plans"] == ["力争新增高新技术企业10家", "技术合同成交额突破5亿元", "新建市级众创空间2个"]


def test_the_plan_frame_spreads_over_the_targets_after_it_without_a_heading():
    text = "今年以来,全镇新增企业12家,同比增长9%。下一步,力争新增规上工业企业5家;新建村级科普活动场馆2个;培训农业技术人员800人次。"
    got = _items(text)
    assert got["achievements"] == ["全镇新增企业12家,同比增长9%"]
    assert len(got["plans"]) >= 2 and all("新增企业12家" not in t for t in got["plans"])
    assert "新建村级科普活动场馆2个" in got["plans"]
    assert "培训农业技术人员800人次" in got["plans"]


def test_preambles_principles_and_enumerated_subheadings_are_not_items():
    text = ("2024年,在县委、县政府的坚强领导下,我局紧紧围绕中心工作,各项工作取得了较好成绩。"
            "我局始终把科技人才工作放在首位。四是企业创新主体培育力度进一步加大。"
            "新增科技型中小企业35家,比上年增加8家。")
    texts = [c.text for c in extract_candidates(text)]
    assert texts == ["新增科技型中小企业35家,比上年增加8家"]


def test_a_heading_glued_to_its_first_enumerated_item_still_names_the_section():
    text = ("现将情况报告如下:一、工作成效全镇申请专利52件,同比增长30%。"
            "三、存在的不足一是企业创新能力总体偏弱,缺乏核心技术。二是科技人员偏少。")
    got = _items(text)
    assert got["problems"] == ["一是企业创新能力总体偏弱,缺乏核心技术", "二是科技人员偏少"]


# ---------------------------------------------------------------- long reports (issue 19)


def _long_report() -> str:
    review = "".join(
        f"全年新建第{i}批示范基地{i + 2}个,完成投资{i}.5亿元,同比增长{i + 3}%。"
        f"坚持稳中求进工作总基调,推动高质量发展取得新成效。"
        for i in range(1, 91)
    )
    plan = "".join(f"新增规上企业{i + 10}家以上,工业投资增长{i}%左右。" for i in range(1, 41))
    return (
        "某县2026年政府工作报告\n一、2025年工作回顾\n" + review + "\n"
        "同时,我们也清醒地看到,发展中还面临不少困难和问题。一是产业结构不优,龙头企业偏少。"
        "二是财政收支矛盾突出,刚性支出增加较快。\n"
        "二、2026年重点工作\n" + plan + "\n"
    )


def test_a_long_report_is_read_by_parts_capped_by_salience_with_the_rest_minor():
    text = _long_report()
    assert len(text) >= LONG_REPORT
    got = extract_candidates(text)
    kept = [c for c in got if not c.minor]
    minor = [c for c in got if c.minor]
    by = {s: [c.text for c in kept if c.section == s] for s in ("achievements", "measures", "problems", "plans")}
    # the plan part is plans (no 力争/将 needed), the problems paragraph is problems
    assert by["plans"] and all("家以上" in t for t in by["plans"])
    assert by["problems"] == ["一是产业结构不优,龙头企业偏少", "二是财政收支矛盾突出,刚性支出增加较快"]
    # a summary, not a transcript: about one item per CHARS_PER_ITEM characters, nothing lost
    assert len(kept) <= len(text) / CHARS_PER_ITEM * 1.2
    assert minor and len(kept) + len(minor) > len(kept) * 1.5
    # political formulas are never items, not even minor ones
    assert not any("总基调" in c.text or "高质量发展" in c.text for c in got)
    assert len(extract_candidates(text, all_items=True)) == len(got)
    assert not any(c.minor for c in extract_candidates(text, all_items=True))


def test_a_short_report_is_not_capped_by_parts():
    assert len(REPORT) < LONG_REPORT
    assert not any(c.minor for c in extract_candidates(REPORT))


def test_a_model_backends_candidates_on_a_long_report_are_ranked_the_same_way():
    text = _long_report()
    mine = [c for c in extract_candidates(text, all_items=True)]
    # as a model would return them: each chunk's items, hints at the chunk start, not ranked
    as_model = [replace(c, hint=0, chunk_index=0, minor=False) for c in mine]
    ranked = rank_candidates(text, as_model)
    assert [c.text for c in ranked] == [c.text for c in as_model]
    assert {c.text for c in ranked if c.minor} == {c.text for c in extract_candidates(text) if c.minor}
    assert rank_candidates(text, as_model, all_items=True) == as_model
    assert rank_candidates(REPORT, as_model[:5]) == as_model[:5]  # a short report is not capped


def test_a_targets_subheading_inside_the_review_is_not_a_plan_heading():
    text = ("二、主要做法\n（一）明确目标任务\n年初召开全县科技工作会议,分解下达研发投入目标任务18项。"
            "（二）强化政策支持\n兑现科技奖补资金860万元,惠及企业52家。\n"
            "三、2025年工作计划\n新增高新技术企业15家以上。")
    got = _items(text)
    assert "年初召开全县科技工作会议,分解下达研发投入目标任务18项" in got["measures"]
    assert "兑现科技奖补资金860万元,惠及企业52家" in got["measures"]
    assert got["plans"] == ["新增高新技术企业15家以上"]


def test_a_fragment_after_its_subject_stays_with_it():
    text = "全年共获国家各类科技项目170余项,其中科技型中小企业技术创新基金项目91项、国家火炬计划项目33项。"
    got = _items(text)
    assert got["achievements"] == [text.rstrip("。")]


def test_bare_title_lines_of_an_unnumbered_report_are_part_headings_not_items():
    text = ("某县教育局2025年工作总结\n\n主要成绩\n\n全县高考本科上线1862人，上线率提高3.1个百分点。\n\n"
            "问题与不足\n\n100人以下农村小规模学校57所，音体美课程开不齐。城区学位偏紧，小学一年级报名三年增长38%。\n\n"
            "下一步打算\n\n新建城区小学2所，增加学位2700个。\n")
    got = _items(text)
    joined = "\n".join(t for items in got.values() for t in items)
    assert "问题与不足" not in joined and "主要成绩" not in joined and "下一步打算" not in joined
    # under 问题与不足, figures and all, the paragraph's clauses are problems, not results
    assert "100人以下农村小规模学校57所，音体美课程开不齐" in got["problems"]
    assert "城区学位偏紧，小学一年级报名三年增长38%" in got["problems"]
    assert got["plans"] == ["新建城区小学2所，增加学位2700个"]
    assert got["achievements"] == ["全县高考本科上线1862人，上线率提高3.1个百分点"]


def test_a_heading_reporting_progress_is_a_review_part_and_a_measure_label_is_not_a_plan():
    text = ("某区科技局2024年度工作报告\n一、重点工作推进情况\n修订《科技专项资金管理办法》，推行奖补免申即享，兑现奖补5260万元。\n"
            "二、主要做法\n（一）坚持规划引领，强化顶层设计。每年年初召开全区科技创新大会，每年安排科技专项资金不少于1.5亿元。\n"
            "三、2025年工作计划\n力争新增高新技术企业40家。\n")
    got = _items(text)
    assert any(t.startswith("修订《科技专项资金管理办法》") for t in got["measures"]), got
    assert any("不少于1.5亿元" in t for t in got["measures"]), got  # a standing practice
    assert got["plans"] == ["力争新增高新技术企业40家"], got
