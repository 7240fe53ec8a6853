from __future__ import annotations

import sqlite3
import threading

import pytest

from reportsum.models import (
    DocumentInfo,
    DocumentSummary,
    RejectedItem,
    RunInfo,
    SummaryItem,
    Usage,
)
from reportsum.runs.store import SCHEMA_VERSION, Store, StoreError, base_url_host, safe_settings


def _summary(source: str = "a.txt", index: int = 0) -> DocumentSummary:
    return DocumentSummary(
        document=DocumentInfo(source=source, index=index, sha256="ab" * 32, chars=10),
        run=RunInfo(backend="rules"),
        achievements=[SummaryItem(text="产值10.69亿元", evidence="产值10.69亿元", span=(0, 9))],
        rejected=[RejectedItem(section="achievements", text="产值10.96亿元", reasons=["数字不符"])],
    )


def test_new_store_is_wal_and_at_current_schema(tmp_path):
    path = tmp_path / "s.db"
    with Store(path):
        pass
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_refuses_a_store_from_a_newer_version(tmp_path):
    path = tmp_path / "s.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer"):
        Store(path)


def test_run_results_round_trip_and_count_items(tmp_path):
    with Store(tmp_path / "s.db") as st:
        rid = st.start_run(command="summarise", backend="rules", settings={"chunk_chars": 1800})
        st.add_result(rid, _summary("a.txt"))
        st.add_result(rid, _summary("b.txt"))
        st.finish_run(rid, usage=Usage(calls=3, cache_hits=1), outcome="ok")
        row = st.run(rid[:10])
        assert (row.documents, row.items, row.rejected) == (2, 2, 2)
        assert row.usage["calls"] == 3 and row.outcome == "ok"
        assert [r.document.source for r in st.results(rid)] == ["a.txt", "b.txt"]
        assert st.run("last").id == rid


def test_unknown_run_is_a_clear_error(tmp_path):
    with Store(tmp_path / "s.db") as st, pytest.raises(StoreError, match="no run"):
        st.run("nope")


def test_api_key_and_url_path_never_stored(tmp_path):
    settings = {"api_key": "sk-SECRET123", "base_url": "http://u:pw@127.0.0.1:9999/v1?token=abc", "model": "m"}
    assert safe_settings(settings) == {"base_url": "http://127.0.0.1:9999/v1", "model": "m"}
    assert base_url_host("https://api.example.com/v1") == "api.example.com"
    path = tmp_path / "s.db"
    with Store(path) as st:
        st.start_run(command="summarise", backend="openai", base_url=settings["base_url"], settings=settings)
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"SECRET123" not in stored and b"token=abc" not in stored and b"pw@" not in stored
    assert b"127.0.0.1:9999" in stored


def test_cache_round_trip(tmp_path):
    with Store(tmp_path / "s.db") as st:
        assert st.cache_get("k") is None
        st.cache_put("k", {"items": [{"text": "一", "evidence": "一"}]})
        assert st.cache_get("k") == {"items": [{"text": "一", "evidence": "一"}]}


def test_concurrent_writers_from_threads_and_processes_lose_nothing(tmp_path):
    path = tmp_path / "s.db"
    with Store(path) as st:
        rid = st.start_run(command="summarise", backend="rules")

        def write(n: int) -> None:
            for i in range(25):
                st.add_result(rid, _summary(f"t{n}-{i}.txt"))

        threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        other = Store(path)  # a second connection, as a second process would have
        threads.append(threading.Thread(target=lambda: [other.cache_put(f"k{i}", {"i": i}) for i in range(50)]))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        other.close()
        assert st.run(rid).documents == 100
        assert st.cache_get("k49") == {"i": 49}
