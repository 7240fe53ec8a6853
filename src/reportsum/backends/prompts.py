"""Prompt files: Jinja2 templates for the model's system message.

Bundled prompts live in the top-level `prompts/` folder, shipped inside the package as
`reportsum/prompts/*.j2`. Each file starts with a Jinja comment header:

    {# name: default
    version: 1
    description: one line #}

Only the system message is a template. The report text never is: `Prompt.render_user`
builds the user message by plain concatenation, so `{{ }}`, `{% %}` and `{#` in a report stay
characters (the model backend also passes both messages to instructor as template
variables, whose values Jinja does not re-parse).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

SOURCE_OPEN = "<原文>"
SOURCE_CLOSE = "</原文>"
"""Markers around the report text in the user message (the prompts refer to them)."""

_HEADER = re.compile(r"\A\s*\{#(.*?)#\}", re.S)
_FIELD = re.compile(r"^\s*(name|version|description)\s*:\s*(.*?)\s*$", re.M)
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")

# Sandboxed and strict: a user's prompt file may not reach Python objects, and a misspelt
# variable is an error rather than silently empty text.
_ENV = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=False, autoescape=False)


class PromptError(Exception):
    """A prompt that can't be found, read or rendered."""


@dataclass(frozen=True)
class Prompt:
    """One prompt template and its identity (name, version, hash of the text)."""

    name: str
    version: str
    description: str
    source: str
    sha256: str
    path: str | None = None

    def render_system(self, **variables: Any) -> str:
        """The system message: the template rendered with `variables`.

        `evidence` ("quote" unless given) says how the model gives its evidence: a verbatim
        quote, or (`ref`) the numbers of the sentences it rests on. Raises PromptError when
        the template uses a variable that was not given.
        """
        variables.setdefault("evidence", "quote")
        try:
            return _ENV.from_string(self.source).render(**variables).strip()
        except TemplateError as exc:
            raise PromptError(f"prompt {self.name!r}: {exc}") from exc

    def render_user(
        self, text: str, *, heading: str | None = None, sentences: Sequence[str] | None = None
    ) -> str:
        """The user message carrying one chunk of report text, verbatim.

        With `sentences` (evidence by reference) the chunk goes as those sentences, one a
        line, each after its number: `[1]…`. Everything that varies comes last (the chunk
        after its heading), so that the fixed prefix is shared by every call. The first line
        has no indentation and no digits: instructor dedents templated messages, and test
        servers read numbers from between the markers only.
        """
        lines = ["请从下面这段工作总结原文中抽取成效、措施、存在问题和明年打算。"]
        if heading:
            lines.append(f"这段原文位于小标题“{heading}”之下。")
        body = text if sentences is None else "\n".join(
            f"[{n}]{s}" for n, s in enumerate(sentences, start=1)
        )
        lines += [SOURCE_OPEN, body, SOURCE_CLOSE]
        return "\n".join(lines)


def _parse(source: str, *, default_name: str, path: str | None) -> Prompt:
    try:
        _ENV.parse(source)
    except TemplateError as exc:
        where = path or default_name
        line = getattr(exc, "lineno", None)
        raise PromptError(
            f"prompt {where}: invalid template{f' (line {line})' if line else ''}: {exc}"
        ) from exc
    fields: dict[str, str] = {}
    header = _HEADER.match(source)
    if header:
        fields = {k: v for k, v in _FIELD.findall(header.group(1))}
    prompt = Prompt(
        name=fields.get("name") or default_name,
        version=fields.get("version") or "0",
        description=fields.get("description", ""),
        source=source,
        sha256=hashlib.sha256(source.encode("utf-8")).hexdigest(),
        path=path,
    )
    prompt.render_system()  # fails now, with the file named, if it needs undefined variables
    return prompt


def _bundled() -> dict[str, Prompt]:
    folder = resources.files("reportsum") / "prompts"
    found: dict[str, Prompt] = {}
    if not folder.is_dir():
        return found
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".j2"):
            stem = entry.name[: -len(".j2")]
            prompt = _parse(entry.read_text(encoding="utf-8"), default_name=stem, path=None)
            found[prompt.name] = prompt
    return found


def list_prompts() -> list[Prompt]:
    """The bundled prompts, sorted by name."""
    return sorted(_bundled().values(), key=lambda p: p.name)


def load_prompt(name_or_path: str) -> Prompt:
    """A bundled prompt by name (e.g. "default"), or a user's prompt file by path.

    Anything containing a path separator or ending in `.j2`/`.txt` is a path. Raises
    PromptError when the prompt is missing, unreadable or not a valid template.
    """
    looks_like_path = (
        "/" in name_or_path or "\\" in name_or_path or name_or_path.endswith((".j2", ".txt"))
    )
    if not looks_like_path:
        bundled = _bundled()
        if name_or_path in bundled:
            return bundled[name_or_path]
        if not Path(name_or_path).is_file():
            names = ", ".join(sorted(bundled)) or "none"
            raise PromptError(f"unknown prompt {name_or_path!r}: bundled prompts are {names}")
    path = Path(name_or_path).expanduser()
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromptError(f"prompt file {path} does not exist") from None
    except IsADirectoryError:
        raise PromptError(f"prompt file {path} is a folder, not a file") from None
    except UnicodeDecodeError:
        raise PromptError(f"prompt file {path} is not UTF-8 text") from None
    except OSError as exc:
        raise PromptError(f"cannot read prompt file {path}: {exc.strerror}") from None
    if not source.strip():
        raise PromptError(f"prompt file {path} is empty")
    stem = path.name.rsplit(".", 1)[0]
    return _parse(source, default_name=stem if _NAME.match(stem) else "custom", path=str(path))


__all__ = ["SOURCE_CLOSE", "SOURCE_OPEN", "Prompt", "PromptError", "list_prompts", "load_prompt"]
