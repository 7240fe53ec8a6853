from __future__ import annotations

import pytest
from helpers import EXAMPLES, assert_evidence_at_span

import reportsum
from reportsum.models import SECTIONS
from reportsum.pipeline import ConfigError, Settings, resolve_backend
from reportsum.runs.prices import estimate_cost


def test_backend_is_openai_only_when_an_endpoint_or_key_is_configured():
    assert resolve_backend(Settings(), env={}).backend == "rules"
    s = resolve_backend(Settings(), env={"OPENAI_API_KEY": "k", "REPORTSUM_MODEL": "qwen-plus"})
    assert (s.backend, s.model, s.api_key) == ("openai", "qwen-plus", "k")
    s = resolve_backend(Settings(base_url="http://127.0.0.1:1/v1"), env={})
    assert s.backend == "openai" and s.model
    assert resolve_backend(Settings(backend="rules"), env={"OPENAI_API_KEY": "k"}).backend == "rules"


@pytest.mark.parametrize(
    "settings",
    [Settings(backend="magic"), Settings(backend="openai", mode="xml"), Settings(concurrency=0),
     Settings(chunk_chars=10), Settings(timeout=0)],
)
def test_impossible_settings_are_a_config_error(settings):
    with pytest.raises(ConfigError):
        resolve_backend(settings, env={})


def test_settings_repr_never_shows_the_key():
    assert "sk-secret" not in repr(Settings(api_key="sk-secret"))


def test_python_api_summarises_text_and_files_offline():
    path = next(EXAMPLES.glob("*.txt"))
    text = path.read_text(encoding="utf-8")
    docs = reportsum.summarise_text(text, source="demo")
    assert len(docs) == 1 and docs[0].document.source == "demo"
    for name in SECTIONS:
        for item in docs[0].section(name):
            assert_evidence_at_span(text, item)
    fs = reportsum.summarise_file(path)
    assert fs.documents[0].achievements == docs[0].achievements


def test_cost_estimate_uses_the_price_table_per_million_tokens():
    prices = {"m": {"prompt": 1.0, "completion": 4.0}}
    assert estimate_cost("m", {"prompt_tokens": 500_000, "completion_tokens": 250_000}, prices) == 1.5
    assert estimate_cost("other", {"prompt_tokens": 1}, prices) is None


def test_a_truncation_notice_mid_text_warns_its_report(tmp_path):
    text = ("某县科技局2024年工作总结\n全年新增高新技术企业12家，同比增长20%。\n"
            "……(未完,全文共5832字,当前仅显示800字)……\n下一步将继续加大研发投入。\n")
    docs = reportsum.summarise_text(text)
    assert "truncated" in docs[0].document.warnings


def test_output_files_are_readable_like_any_file(tmp_path):
    import os
    import stat

    from reportsum.outputs.atomic import write_text_atomic

    target = tmp_path / "o.json"
    write_text_atomic(target, "{}")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
