"""Split: one part per report, in order, each with title, issuer and period."""

from __future__ import annotations

import pytest
from fixtures_build import REPORT
from helpers import seed

from reportsum.stages.clean import TRUNCATED, clean
from reportsum.stages.split import split
from reportsum.stages.textmap import MappedText


def _split(raw: str):
    return split(clean(raw).text)


def _seed_parts(prefix: str):
    return _split(seed(prefix).read_text(encoding="utf-8"))


SECOND = """西山镇2020年科技工作总结
今年以来,西山镇围绕科技强镇目标,全年新增科技型中小企业9家,申请专利46件,完成技术合同登记1200万元。
一、存在问题
科技服务机构不健全,经费不足。
西山镇人民政府
2020年12月28日
"""


def test_single_report_is_one_part_with_index_zero():
    parts = _split(REPORT)
    assert len(parts) == 1
    part = parts[0]
    assert part.index == 0
    assert part.title == "东湖区科技局2021年工作总结"
    assert part.issuer == "东湖区科技局"
    assert part.period == "2021年"
    assert part.warnings == ()
    assert part.text.text == REPORT.strip()


def test_marker_lines_split_reports_and_are_not_report_text():
    raw = f"第一篇:东湖区2021年总结\n{REPORT}第二篇：西山镇科技工作总结\n{SECOND}"
    parts = _split(raw)
    assert [p.index for p in parts] == [0, 1]
    assert [p.title for p in parts] == ["东湖区科技局2021年工作总结", "西山镇2020年科技工作总结"]
    assert [p.issuer for p in parts] == ["东湖区科技局", "西山镇人民政府"]
    assert [p.period for p in parts] == ["2021年", "2020年"]
    assert all("第一篇" not in p.text.text and "第二篇" not in p.text.text for p in parts)
    # each part maps back to its own place in the text as read
    for part in parts:
        start, end = part.text.span_to_original(0, len(part.text))
        assert raw[start:end] == part.text.text


def test_marker_title_is_used_when_the_report_has_no_title_line():
    parts = _split("第一篇:南岭乡科技工作汇报\n今年以来,南岭乡新建科技示范基地3个,培训农民1500人次,科技工作取得明显成效。")
    assert parts[0].title == "南岭乡科技工作汇报"
    assert parts[0].issuer == "南岭乡"


def test_leftover_header_before_first_marker_is_not_a_document():
    parts = _split(f"工作总结范文大全\n\n第一篇:东湖区总结\n{REPORT}第二篇:西山镇总结\n{SECOND}")
    assert len(parts) == 2
    assert parts[0].title == "东湖区科技局2021年工作总结"


def test_report_before_first_marker_is_kept_as_first_document():
    parts = _split(f"{REPORT}第二篇:西山镇总结\n{SECOND}")
    assert [p.title for p in parts] == ["东湖区科技局2021年工作总结", "西山镇2020年科技工作总结"]


def test_marker_with_nothing_after_it_gives_no_empty_document():
    parts = _split(f"第一篇:东湖区总结\n{REPORT}第二篇:空白\n\n")
    assert len(parts) == 1
    assert all(p.text.text.strip() for p in parts)


def test_signature_then_new_titled_report_splits_without_markers():
    parts = _split(REPORT + SECOND)
    assert [p.title for p in parts] == ["东湖区科技局2021年工作总结", "西山镇2020年科技工作总结"]
    assert parts[0].text.text.endswith("2021年12月30日")
    assert parts[1].text.text.startswith("西山镇2020年科技工作总结")


def test_repeated_title_line_does_not_split():
    raw = "东湖区科技局2021年工作总结.docx\n" + REPORT
    parts = _split(raw)
    assert len(parts) == 1
    assert parts[0].title == "东湖区科技局2021年工作总结"


def test_period_half_year_and_year_from_title_or_body():
    half = _split("科学技术局上半年工作总结\n今年上半年,全区高新技术产业投入达10.69亿元,同比增长32.3%,成效明显。")
    assert half[0].period == "上半年"
    assert half[0].issuer == "科学技术局"
    body = _split("科技工作汇报材料\n2013年全区研发投入9亿元。2013年新增企业12家,比2011年提高0.3个百分点。")
    assert body[0].period == "2013年"
    assert body[0].issuer is None
    redacted = _split("科技工作总结\n20xx年,全市科技工作紧紧围绕创新驱动发展战略,专利申请量达到83334件。")
    assert redacted[0].period is None


def test_truncated_last_report_warns_on_its_part_only():
    cut = SECOND.replace("经费不足。\n西山镇人民政府\n2020年12月28日\n", "经费不足,下一步将积极争取上级科技项目资金支持,加大镇财政科技投入,完善镇村两级科技服务网络")
    parts = _split(REPORT + cut)
    assert [p.warnings for p in parts] == [(), (TRUNCATED,)]


def test_empty_text_has_no_parts():
    assert split(MappedText.identity("")) == []
    assert split(MappedText.identity(" \n\n ")) == []


# ---------------------------------------------------------------- the seeds


@pytest.mark.seeds
def test_seed_004_splits_into_five_reports():
    parts = _seed_parts("004")
    assert [p.index for p in parts] == [0, 1, 2, 3, 4]
    assert [p.title for p in parts] == [
        "青阳镇2011年科技创新工作总结",
        "青阳镇2009年科技创新工作总结",
        "青阳镇2011年科技发展规划",
        "**镇2018年科技创新工作总结",
        "科技创新工作总结",
    ]
    assert [p.period for p in parts] == ["2011年", "2009年", "2011年", "2018年", "2005年"]
    assert [p.issuer for p in parts] == ["青阳镇人民政府", "青阳镇人民政府", "青阳镇镇人民政府", "**镇人民政府", None]
    for part in parts:
        assert not part.text.text.startswith("第")
        assert "篇:" not in part.text.text
    starts = [p.text.to_original(0) for p in parts]
    assert starts == sorted(starts)


@pytest.mark.seeds
@pytest.mark.parametrize(
    ("prefix", "title", "issuer", "period"),
    [
        ("000", "科学技术局上半年工作总结", "科学技术局", "上半年"),
        ("001", "市科技局年度工作总结和明年工作打算", "市科技局", None),
        ("002", "科技工作总结", None, None),
        ("003", "區科技工作匯報材料", None, "2013年"),
    ],
)
def test_single_report_seeds_give_one_part(prefix, title, issuer, period):
    parts = _seed_parts(prefix)
    assert len(parts) == 1
    assert (parts[0].title, parts[0].issuer, parts[0].period) == (title, issuer, period)


@pytest.mark.seeds
def test_seed_parts_map_back_to_the_text_as_read():
    raw = seed("004").read_text(encoding="utf-8")
    for part in _split(raw):
        for i in range(0, len(part.text), 97):
            assert raw[part.text.to_original(i)] == part.text.text[i]


BODY = "今年以来,全县新增科技型中小企业21家,同比增长16%,技术合同成交额达到3.2亿元。\n"


def test_title_never_comes_from_a_navigation_trail_and_loses_a_site_suffix():
    raw = ("首页 | 政务公开 | 科技服务\n位置:首页 > 政务公开 > 规划计划 > 工作总结\n"
           "南川县科学技术局2025年1-6月工作总结范文\n来源:南川县科学技术局  发布时间:2025-07-10\n" + BODY)
    (part,) = _split(raw)
    assert part.title == "南川县科学技术局2025年1-6月工作总结"
    assert part.issuer == "南川县科学技术局"
    assert part.period == "2025年1-6月"


def test_issuer_from_the_byline_under_a_title_without_one():
    raw = "2025年度述职述廉报告\n中共东坪镇委员会书记 李明\n（2026年1月16日）\n" + BODY
    (part,) = _split(raw)
    assert part.title == "2025年度述职述廉报告"
    assert part.issuer == "中共东坪镇委员会"
    raw = "关于北岭县科技创新工作情况的汇报\n" + BODY
    assert _split(raw)[0].issuer == "北岭县"


def test_period_keeps_the_quarter():
    (part,) = _split("石岭乡2025年一季度科技工作情况汇报\n" + BODY)
    assert part.period == "2025年一季度"
