"""Prompt files: bundled prompts, users' prompt files, and report text never templated."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from reportsum.backends.prompts import (
    SOURCE_CLOSE,
    SOURCE_OPEN,
    PromptError,
    list_prompts,
    load_prompt,
)
from reportsum.grounding.ground import GroundingSource, check_item
from reportsum.models import SECTIONS, Extraction

BUNDLED = [p.name for p in list_prompts()]


def test_bundled_prompts_have_headers_and_hashes() -> None:
    prompts = {p.name: p for p in list_prompts()}
    assert {"default", "strict"} <= set(prompts)
    for p in prompts.values():
        assert p.version.isdigit() and p.description and "\n" not in p.description
        assert p.sha256 == hashlib.sha256(p.source.encode("utf-8")).hexdigest()
        assert p.source.startswith("{# name: " + p.name)
    assert prompts["default"].sha256 != prompts["strict"].sha256


def test_load_prompt_by_name_returns_the_bundled_file() -> None:
    assert load_prompt("strict") == next(p for p in list_prompts() if p.name == "strict")


@pytest.mark.parametrize("name", BUNDLED)
def test_rendered_system_prompt_is_plain_text_naming_every_field(name: str) -> None:
    system = load_prompt(name).render_system()
    assert not re.search(r"\{\{|\{%|\{#|#\}", system)
    assert "version:" not in system
    assert SOURCE_OPEN in system and SOURCE_CLOSE in system
    for field in (*SECTIONS, "text", "evidence"):
        assert field in system


@pytest.mark.parametrize("name", BUNDLED)
def test_worked_example_obeys_the_grounding_rules(name: str) -> None:
    """The example answer in each prompt must itself pass the validator the model faces."""
    system = load_prompt(name).render_system()
    match = re.search(re.escape(SOURCE_OPEN) + r"\n(.*?)\n" + re.escape(SOURCE_CLOSE) +
                      r"\n.*?\n(\{.*\})", system, re.S)
    assert match, "prompt has no worked example"
    source = GroundingSource(match.group(1))
    example = Extraction.model_validate(json.loads(match.group(2)))
    for section in SECTIONS:
        items = getattr(example, section)
        assert items, f"example has no {section}"
        for item in items:
            check = check_item(source, item.text, item.evidence)
            assert check.ok, (section, item.text, check.reasons)


def test_user_message_carries_template_syntax_verbatim() -> None:
    text = "完成{{ 投资 }}3.5亿元{% if a %}，{# 备注 #}新增{%- raw -%}企业12家。"
    message = load_prompt("default").render_user(text, heading="（一）{{ 成效 }}")
    assert f"{SOURCE_OPEN}\n{text}\n{SOURCE_CLOSE}" in message
    assert "（一）{{ 成效 }}" in message
    assert not re.search(r"\d", message.split(SOURCE_OPEN)[0].replace("（一）", ""))


def test_user_prompt_file_with_header(tmp_path: Path) -> None:
    path = tmp_path / "mine.j2"
    path.write_text("{# name: mine\nversion: 3\ndescription: 只要成效 #}\n只抽取成效。", encoding="utf-8")
    p = load_prompt(str(path))
    assert (p.name, p.version, p.description, p.path) == ("mine", "3", "只要成效", str(path))
    assert p.render_system() == "只抽取成效。"


def test_user_prompt_file_without_header_is_named_after_the_file(tmp_path: Path) -> None:
    path = tmp_path / "short.txt"
    path.write_text("抽取四类要点。", encoding="utf-8")
    p = load_prompt(str(path))
    assert (p.name, p.version, p.description) == ("short", "0", "")


def test_render_system_uses_variables_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "v.j2"
    path.write_text("每类最多{{ limit | default(5) }}条。", encoding="utf-8")
    p = load_prompt(str(path))
    assert p.render_system() == "每类最多5条。"
    assert p.render_system(limit=8) == "每类最多8条。"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{% if x %}未闭合", "invalid template"),
        ("{{ 未定义变量 }}", "is undefined"),
        ("   \n", "is empty"),
    ],
)
def test_invalid_prompt_file_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.j2"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PromptError, match=message) as exc:
        load_prompt(str(path))
    assert "bad" in str(exc.value)


def test_missing_prompt_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.j2"
    with pytest.raises(PromptError, match="does not exist") as exc:
        load_prompt(str(missing))
    assert str(missing) in str(exc.value)


def test_unknown_prompt_name_lists_the_bundled_ones() -> None:
    with pytest.raises(PromptError, match="unknown prompt 'nosuch'.*default"):
        load_prompt("nosuch")


def test_non_utf8_prompt_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "gbk.txt"
    path.write_bytes("抽取成效".encode("gbk"))
    with pytest.raises(PromptError, match="not UTF-8"):
        load_prompt(str(path))
