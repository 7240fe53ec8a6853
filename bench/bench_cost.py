"""What a report costs with a model: calls, characters sent, output per item, cache share.

Every seed (../shared/seeds) and the demo report (examples/) run through the real pipeline
and model backend against tests/fakeserver.py (faithful answers, prompt caching simulated:
the server reports as cached the longest prefix it has seen before, in 128-token blocks
from 1,024 on, the way hosted APIs cache; a token per character). Characters sent count everything in the
request the model reads: every message and the tool schema, the fixed prefix on every call.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fakeserver import FakeOpenAI  # noqa: E402

from reportsum.pipeline import Settings, summarise_file  # noqa: E402

SEEDS = ROOT.parent / "shared" / "seeds"
DEMO = sorted((ROOT / "examples").glob("*.txt"))


def request_chars(request: dict[str, Any]) -> int:
    """Characters of everything the model reads: message contents and the tool schema."""
    n = sum(len(m.get("content") or "") for m in request.get("messages", []))
    if request.get("tools"):
        n += len(json.dumps(request["tools"], ensure_ascii=False))
    if request.get("response_format", {}).get("json_schema"):
        n += len(json.dumps(request["response_format"], ensure_ascii=False))
    return n


def measure(path: Path, **overrides: Any) -> dict[str, float]:
    """One input's figures. The server has first answered one call for another report
    (the demo report, or seed 000 for the demo), as in any batch: the cached share is what
    a warm prompt cache serves (hosted caches keep a prefix for minutes)."""
    with FakeOpenAI(simulate_cache=True) as server:
        settings = replace(Settings(backend="openai", model="fake", base_url=server.base_url,
                                    api_key="sk-bench", max_retries=0), **overrides)
        warm = DEMO[0] if path not in DEMO else sorted(SEEDS.glob("*.txt"))[0]
        summarise_file(warm, settings=settings)
        skip = server.calls
        summary = summarise_file(path, settings=settings)
        requests = server.requests[skip:]
        sent = sum(request_chars(r.json) for r in requests)
        items = sum(len(getattr(d, s)) for d in summary.documents
                    for s in ("achievements", "measures", "problems", "plans"))
        usage = [d.run.usage for d in summary.documents]
        prompt = sum(u.prompt_tokens for u in usage)
        cached = sum(u.cached_tokens for u in usage)
        report = len(path.read_text(encoding="utf-8"))
        written = sum(server.answer_chars[skip:])
        return {
            "report_chars": report, "calls": len(requests), "sent": sent,
            "amplification": sent / report, "items": items,
            # Per item the model wrote (whether or not it was kept): what output costs.
            "out_per_item": written / max(sum(server.answer_items[skip:]), 1),
            "written": written, "written_items": sum(server.answer_items[skip:]),
            "cached_share": cached / prompt if prompt else 0.0,
        }


def _gold_files(path: Path) -> list[Path]:
    """The gold answers of an input: eval/gold/seeds/NNN*.json for a seed, the example's own."""
    if path.parent == SEEDS:
        return sorted((ROOT / "eval" / "gold" / "seeds").glob(f"{path.name[:3]}*.json"))
    return [ROOT / "eval" / "gold" / "examples" / f"{path.stem}.json"]


def gold_serialised(files: list[Path] | None = None) -> tuple[list[str], list[str]]:
    """Gold answers' items written both ways, as a model would write them: (quote, ref).

    The test server's items copy their quote as their text (text == evidence), which is the
    worst case for `ref`; the gold items have the concise text a good model writes. Each is
    its text and its quote, or its text and the numbers of the clauses (reportsum's
    numbering) its quote covers.
    """
    from reportsum.stages.sentences import clause_spans

    if files is None:
        files = sorted((ROOT / "eval" / "gold" / "seeds").glob("*.json"))
    quote: list[str] = []
    ref: list[str] = []
    for path in files:
        gold = json.loads(path.read_text(encoding="utf-8"))
        source = (path.parent / gold["document"]).resolve().read_text(encoding="utf-8")
        clauses = clause_spans(source)
        for section in ("achievements", "measures", "problems", "plans"):
            for item in gold.get(section, []):
                if "span" in item:
                    s, e = item["span"]
                else:  # gold written as quotes: the quote's first place in the source
                    s = source.find(item["evidence"])
                    if s < 0:
                        continue
                    e = s + len(item["evidence"])
                cite = [n for n, (a, b) in enumerate(clauses, 1) if a < e and b > s]
                quote.append(json.dumps({"text": item["text"], "evidence": source[s:e]},
                                        ensure_ascii=False) + ", ")
                ref.append(json.dumps({"text": item["text"], "cite": cite}, ensure_ascii=False) + ", ")
    return quote, ref


def gold_shaped(files: list[Path] | None = None) -> tuple[float, float]:
    """Output characters per item of gold answers written both ways: (quote, ref)."""
    quote, ref = gold_serialised(files)
    n = max(len(quote), 1)
    return sum(map(len, quote)) / n, sum(map(len, ref)) / n


def gold_tokens(files: list[Path] | None = None) -> tuple[float, float] | None:
    """Output *tokens* per item of the gold answers both ways, (quote, ref), counted by a real
    tokenizer (gemma-3's, through llama-server's /tokenize; None when it is not built):
    what a provider bills. Chinese text costs more tokens per character than JSON keys and
    digits, so `ref` saves more in tokens than in characters."""
    import urllib.request

    from llama_server import LlamaServer, missing

    if missing() is not None:
        return None
    quote, ref = gold_serialised(files)
    with LlamaServer(ctx=2048, slots=1) as server:
        def count(text: str) -> int:
            req = urllib.request.Request(f"http://127.0.0.1:{server.port}/tokenize",
                                         data=json.dumps({"content": text}).encode(),
                                         headers={"content-type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as r:
                return len(json.loads(r.read())["tokens"])

        n = max(len(quote), 1)
        return sum(map(count, quote)) / n, sum(map(count, ref)) / n


def inputs() -> list[tuple[str, Path]]:
    out = [(f"seed {p.name[:3]}", p) for p in sorted(SEEDS.glob("*.txt"))]
    return out + [("examples/ demo report", p) for p in DEMO]


def run() -> list[dict[str, Any]]:
    rows = []
    for name, path in inputs():
        row: dict[str, Any] = {"input": name, **measure(path)}
        for mode in ("quote", "ref"):
            m = measure(path, evidence=mode)
            row[f"out_{mode}"] = m["out_per_item"]
            row[f"written_{mode}"], row[f"items_{mode}"] = m["written"], m["written_items"]
        row["gold_quote"], row["gold_ref"] = gold_shaped(_gold_files(path))
        rows.append(row)
    return rows


def overall_ratio(rows: list[dict[str, Any]]) -> float:
    """ref/quote output characters per item over every item of every input."""
    per = {mode: sum(r[f"written_{mode}"] for r in rows) / max(sum(r[f"items_{mode}"] for r in rows), 1)
           for mode in ("quote", "ref")}
    return per["ref"] / per["quote"]


def table(rows: list[dict[str, Any]]) -> str:
    head = ("| input | report chars | calls | chars sent | amplification | out chars/item "
            "quote | ref | ref/quote | gold answers quote | ref | ref/quote | cached share |\n"
            + "| --- " * 12 + "|")
    lines = [head]
    for r in rows:
        ratio = r["out_ref"] / r["out_quote"] if r["out_quote"] else float("nan")
        lines.append(
            f"| {r['input']} | {r['report_chars']:,} | {r['calls']} | {r['sent']:,} | "
            f"{r['amplification']:.2f}x | {r['out_quote']:.0f} | {r['out_ref']:.0f} | "
            f"{ratio:.2f} | {r['gold_quote']:.0f} | {r['gold_ref']:.0f} | "
            f"{r['gold_ref'] / r['gold_quote']:.2f} | {r['cached_share']:.0%} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(run()))
    q, r = gold_shaped()
    print(f"gold-shaped answers (eval/gold/seeds): {q:.0f} chars/item quote, {r:.0f} ref, ratio {r / q:.2f}")
    tokens = gold_tokens()
    if tokens is not None:
        q, r = tokens
        print(f"in tokens (gemma-3 tokenizer): {q:.1f} tokens/item quote, {r:.1f} ref, ratio {r / q:.2f}")
