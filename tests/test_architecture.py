"""The layering of ARCHITECTURE.md, enforced: import-linter's contracts (pyproject.toml) hold,
a planted forbidden import breaks them, and only the CLI prints or exits."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "reportsum"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# A worker process is not the CLI exiting: a forked child whose parent already died leaves at
# once (os._exit skips the parent's atexit handlers and buffers), and it swaps its inherited
# stream objects for fresh ones. Nothing else outside cli/ may touch the process's exit or streams.
ALLOWED = {("runs/workers.py", "os._exit"), ("runs/workers.py", "sys.stdout"), ("runs/workers.py", "sys.stderr")}


def _lint(src_root: Path, config: Path) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} is missing: `make install` installs import-linter (dev extra)")
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        cwd=src_root.parent, capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": str(src_root), "PATH": "/usr/bin:/bin"},
    )


def test_import_contracts_are_kept() -> None:
    result = _lint(ROOT / "src", ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "planted", "contract"),
    [
        ("stages/clean.py", "from reportsum.backends import rules", "Layers"),
        ("grounding/numbers.py", "from reportsum import models", "Layers"),
        ("stages/chunk.py", "import openai", "Only the model backend"),
        ("runs/store.py", "import typer", "Only the CLI"),
    ],
)
def test_a_planted_forbidden_import_breaks_the_contract(
    tmp_path: Path, module: str, planted: str, contract: str
) -> None:
    copy = tmp_path / "src" / "reportsum"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / module
    text = target.read_text(encoding="utf-8")
    head, sep, rest = text.partition("from __future__ import annotations\n")
    target.write_text(head + sep + planted + "\n" + rest, encoding="utf-8")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    result = _lint(tmp_path / "src", tmp_path / "pyproject.toml")
    assert result.returncode != 0
    assert "1 broken" in result.stdout
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert contract in broken
    assert module.replace("/", ".").removesuffix(".py") in broken


def _calls_outside_cli() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("cli/"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        for node in ast.walk(tree):
            name = None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in ("print", "exit", "quit", "input", "breakpoint"):
                    name = node.func.id
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                dotted = f"{node.value.id}.{node.attr}"
                if dotted in ("sys.exit", "os._exit", "sys.stdout", "sys.stderr", "os.abort"):
                    name = dotted
            elif isinstance(node, ast.Name) and node.id == "SystemExit":
                name = "SystemExit"
            if name is not None and (rel, name) not in ALLOWED:
                found.append((rel, node.lineno, name))
    return found


def test_only_the_cli_prints_or_exits() -> None:
    assert _calls_outside_cli() == []


def test_the_print_check_sees_a_planted_print(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "reportsum"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / "stages" / "split.py").open("a", encoding="utf-8") as f:
        f.write("\n\ndef _debug(x):\n    print(x)\n    raise SystemExit(3)\n")
    monkeypatch.setattr(sys.modules[__name__], "SRC", copy)
    found = {(rel, name) for rel, _, name in _calls_outside_cli()}
    assert found == {("stages/split.py", "print"), ("stages/split.py", "SystemExit")}


def test_the_public_api_is_importable_from_the_package() -> None:
    import reportsum
    from reportsum.grounding.verify import SECTIONS as VERIFY_SECTIONS
    from reportsum.models import SECTIONS

    for name in ("summarise_text", "summarise_file", "Settings", "verify", "DocumentSummary",
                 "SummaryItem", "Extraction", "NumberMention", "FileSummary"):
        assert getattr(reportsum, name) is not None, name
    assert callable(reportsum.verify)
    assert VERIFY_SECTIONS == SECTIONS


def test_every_subpackage_is_described_in_architecture_md() -> None:
    doc = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    packages = sorted(p.parent.name for p in SRC.glob("*/__init__.py"))
    assert packages, "no subpackages found"
    for name in packages:
        assert f"`{name}/`" in doc, f"ARCHITECTURE.md does not describe {name}/"
    for module in sorted(SRC.rglob("*.py")):
        rel = module.relative_to(SRC)
        if rel.name == "__init__.py" or len(rel.parts) == 1:
            continue
        assert rel.name in doc, f"ARCHITECTURE.md does not list {rel.as_posix()}"
