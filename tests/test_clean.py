"""Clean: page noise goes, report sentences stay, every character left maps back."""

from __future__ import annotations

import random

import pytest
from fixtures_build import REPORT
from helpers import seed
from hypothesis import given, settings
from hypothesis import strategies as st

from reportsum.stages.clean import RULES, TRUNCATED, clean, ends_mid_sentence


def _assert_maps_back(raw: str, samples: int = 300) -> None:
    cleaned = clean(raw).text
    rng = random.Random(7)
    n = len(cleaned.text)
    for i in rng.sample(range(n), min(samples, n)) if n else []:
        assert raw[cleaned.to_original(i)] == cleaned.text[i]


# ---------------------------------------------------------------- synthetic noise, one kind each

BODY = "全区高新技术企业达到128家,比上年净增21家。"

NOISE_CASES = [
    ("site-rules", "1、本站文档一经付费下载,不退款。\n2、VIP会员可免费下载本站文档。\n" + BODY, BODY),
    ("banner", "欢迎访问范文大全网!\n" + BODY, BODY),
    ("page-meta", "述职报告 时间:2021-12-31 我要投稿\n" + BODY, BODY),
    ("page-meta-source-author", "来源:范文网 作者:佚名 浏览:302\n" + BODY, BODY),
    ("bracketed-site", "【www.fanwen.cn - 工作总结】\n" + BODY, BODY),
    ("shared-by-member", "《年终总结.docx》由会员分享,可在线阅读,更多相关请在某某文库网站上搜索。\n" + BODY, BODY),
    ("file-extension", "东湖区科技局2021年工作总结.docx\n" + BODY, "东湖区科技局2021年工作总结\n" + BODY),
    ("comments", BODY + "\n文档评论(3)\n", BODY),
    ("navigation", BODY + "\n\n相关文章\n", BODY),
    ("prev-next", BODY + "\n上一篇:2020年工作总结\n下一篇:个人述职报告\n", BODY),
    ("author-block", BODY + "\nwangfang + 关注\n实名认证\n文档贡献者\n该用户很懒,什么也没介绍\n", BODY),
    ("footer", BODY + "\n- 配套讲稿:\n如PPT文件的首页显示word图标,表示已包含讲稿。\n- 关 键 词:\n- 科技 工作 总结\n限制150内", BODY),
    ("bookmark", BODY + "\n收藏《東湖區科技工作總結》)", BODY),
    ("source-credit", BODY + "\n《工作总结》来源于fanwen123.com,欢迎阅读工作总结。", BODY),
    ("title-label", "文章标题:科技工作总结\n" + BODY, "科技工作总结\n" + BODY),
    ("phone", "如有疑问请致电。客服电话:400-123-4567(工作日9:00-17:00)\n" + BODY, "如有疑问请致电。\n" + BODY),
    ("phone-labelled", "联系电话:0571-87654321 手机:13812345678\n" + BODY, BODY),
    ("ruby-pinyin", "科技工作呈現(xiàn)良好局面,產(chǎn)業(yè)發(fā)展加快。", "科技工作呈現良好局面,產業發展加快。"),
    ("full-width-punctuation", "文章标题：科技工作总结\n產（chǎn）業發展加快。\n文档评论（2）\n上一篇：述职报告\n",
     "科技工作总结\n產業發展加快。"),
    ("mojibake-orphan-ruby", "在政策導(dǎo)向?qū)用,明確重點。", "在政策導向用,明確重點。"),
    ("mojibake-cyrillic", "引進人才5人!皣А碧仄<、教授領銜的研究院落成。", "引進人才5人!、教授領銜的研究院落成。"),
]


@pytest.mark.parametrize(("noisy", "expected"), [c[1:] for c in NOISE_CASES], ids=[c[0] for c in NOISE_CASES])
def test_removes_each_kind_of_page_noise(noisy, expected):
    result = clean(noisy)
    assert result.text.text == expected
    assert TRUNCATED not in result.warnings
    _assert_maps_back(noisy)


CONTENT_KEPT = [
    ("county-in-parens", "被评为全国县(市)科技进步考核先进县(市)。"),
    ("acronym-in-parens", "开办CEO(总裁)高级研修班,投入40万元。"),
    ("year-range", "2002-2005年连续四年考核名列全市第一。"),
    ("ratio-and-percent", "引导基金杠杆放大效应达到1:10.3,占GDP比重2.2%。"),
    ("rights-vocabulary", "共查处专利侵权案件41起,加强版权保护。"),
    ("list-after-heading", "(二)工作措施\n1、抓体系,注重区域创新环境构建\n2、抓重点,注重梯队培育\n3、抓核心,注重研发"),
    ("report-mentions-netizens", "通过政府网站收集网友意见建议120条,付费咨询服务降低30%。"),
    ("report-mentions-download", "开通科技政策网站,提供政策文件下载服务。"),
    ("long-number-without-phone-label", "全年实现技术合同成交额13912345678元。"),
    ("markdown-bullet-with-spaces", "- 加强 科技 队伍 建设\n- R&D center opened in 2021"),
    ("russian-word", "与 Москва 大学签订合作协议。"),
    ("redacted-numbers", "今年到期需要重新认定的高企xx家,有效期x年,占比x.xx%。"),
]


@pytest.mark.parametrize("text", [c[1] for c in CONTENT_KEPT], ids=[c[0] for c in CONTENT_KEPT])
def test_keeps_report_content_that_resembles_noise(text):
    assert clean(text).text.text == text


def test_keeps_the_shipped_report_fixture_unchanged():
    assert clean(REPORT).text.text == REPORT.strip()


def _page(n: int, text: str) -> str:
    return f"{n}、{text}"


def test_page_break_markers_are_removed_and_sentences_rejoin():
    line1 = "市科技局年度工作总结" + "全年组织企业申报国家和省级科技项目共计四十余项,围绕传统优势产业和新兴产业争取项目资金"
    line2 = "二千万元,其中重点研发计划项目六项,均居全市前列。积极培育高新技术企业,做好存量企业重新认定工作,新认定企业"
    line3 = "十二家,累计达到一百零八家,比上年增长百分之十二。"
    noisy = "年度工作总结.docx\n" + "\n".join([_page(1, line1), _page(2, line2), _page(3, line3)])
    result = clean(noisy)
    assert result.text.text == "年度工作总结\n" + line1 + line2 + line3
    _assert_maps_back(noisy)


def test_single_number_after_open_line_is_not_taken_for_a_page_break():
    # one marker alone could be a list item after a long unfinished line: keep it
    text = "一、主要工作" + "围绕创新驱动发展战略开展工作,重点做好以下方面的工作并取得了较好成效如下所列各项" + "\n2、加强科技队伍建设。"
    assert clean(text).text.text == text


@pytest.mark.parametrize(
    "notice",
    [
        "\n……(某某文秘网http://m.example.cn省略670字,正式会员可完整阅读)……\n",
        " ……(未完,全文共5358字,当前仅显示1881字,请阅读下面提示信息。",
    ],
)
def test_truncation_notice_is_removed_and_warned(notice):
    noisy = BODY + "比上年提高0.3" + notice + "个百分点。"
    result = clean(noisy)
    assert "省略" not in result.text.text and "未完" not in result.text.text
    assert result.warnings == (TRUNCATED,)


def test_text_cut_mid_sentence_warns_truncated():
    cut = BODY + "科技与金融是经济增长的两大核心要素,为顺应时代发展,我市于去年出台科贷通政策管理"
    assert clean(cut + "\n- 配套讲稿:\n限制150内").warnings == (TRUNCATED,)
    assert clean(BODY).warnings == ()


def test_ends_mid_sentence_ignores_headings_and_signatures():
    assert not ends_mid_sentence(BODY + "\n东湖区科技局\n2021年12月30日")
    assert not ends_mid_sentence(BODY + "\n四、加强领导,严格落实制度")
    assert ends_mid_sentence(BODY + "\n5.抓考核。认真按照目标考核要求和创新指标")


def test_rules_are_named_and_unique():
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    assert all(names)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [BODY, "\n", "現(xiàn)", "400-050-0827", "相关文档", "文档评论(0)", "……(省略9字)……",
             "欢迎来到某某网!", "实名认证", "\u3000", "2、", "xx家", "(市)", "收藏《某》"]
        ),
        max_size=25,
    )
)
def test_every_kept_character_maps_back_to_the_input(pieces):
    raw = "".join(pieces)
    cleaned = clean(raw).text
    for i, ch in enumerate(cleaned.text):
        assert raw[cleaned.to_original(i)] == ch


# ---------------------------------------------------------------- the seeds

BOILERPLATE = (
    "book118", "VIP", "400-050-0827", "文档评论", "相关文档", "热门文章", "实名认证", "文档贡献者",
    "该用户很懒", "由会员分享", "配套讲稿", "特殊限制", "关 键 词", "限制150内", "查看更多", "收藏《",
    "文章标题", "xiexiebang", "欢迎来到瑞文网", "我要投稿", "zuowen", "省略670字", "未完,全文共",
    "(xiàn)", "(chǎn)", "(shù)", "皣", "А", ".docx", ".docVIP", "新文秘網", "目錄/提綱",
)

# Heads of sentences spread over each report body (short fragments, searched for).
ANCHORS = {
    "000": ("科学技术局上半年工作总结 一、营造氛围", "开发区和各街道也结合", "10.69亿元", "50.84%",
            "今年5月,国家科技部", "协议金额(技术开发费)1478万元"),
    "001": ("市科技局年度工作总结和明年工作打算xxxx年", "对于这类存量高企", "2.鼓励企业申报科技项目",
            "今年以来,市科技局围绕", "我局成功助力", "平台科技成果转化等专项行动", "出台科贷通政策管理"),
    "002": ("科技工作总结", "20xx年,全市科技工作", "83334件", "1:10.3", "针对我市专利授权量大",
            "其他案件15起。"),
    "003": ("區科技工作匯報材料", "科技工作呈現全所未有", "比2011年提高0.3", "、市級15 家",
            "技術交易額達1.07億元", "在政策導向", "教授嚴晉躍博士", "5.抓考核,注重創新指標提升。"),
    "004": ("第一篇:青阳镇2010年", "青阳镇人民政府 2011年12月", "2011今年全镇共申请专利70件",
            "第三篇:", "三、存在问题:一是镇、村", "**镇人民政府\n2018年12月25日",
            "科技创新工作总结\nXX区为XX市", "科普长廊、科普图书室和活动室。"),
}


@pytest.mark.seeds
@pytest.mark.parametrize("prefix", sorted(ANCHORS))
def test_seed_loses_boilerplate_and_keeps_report_sentences(prefix):
    raw = seed(prefix).read_text(encoding="utf-8")
    text = clean(raw).text.text
    for noise in BOILERPLATE:
        assert noise not in text, noise
    for anchor in ANCHORS[prefix]:
        assert anchor in text, anchor


@pytest.mark.seeds
@pytest.mark.parametrize("prefix", sorted(ANCHORS))
def test_seed_offsets_map_back_to_the_text_as_read(prefix):
    _assert_maps_back(seed(prefix).read_text(encoding="utf-8"), samples=500)


@pytest.mark.seeds
def test_seed_page_breaks_rejoin_sentences():
    text = clean(seed("001").read_text(encoding="utf-8")).text.text
    # "对于这\n2、类存量高企" was one sentence cut by a page number
    assert "对于这类存量高企" in text
    assert "\n3、" not in text and "今年以来" in text


@pytest.mark.seeds
@pytest.mark.parametrize(("prefix", "truncated"), [("000", True), ("001", True), ("002", False), ("003", True), ("004", False)])
def test_seed_truncation_warnings(prefix, truncated):
    warnings = clean(seed(prefix).read_text(encoding="utf-8")).warnings
    assert (TRUNCATED in warnings) is truncated
