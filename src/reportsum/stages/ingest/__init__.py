"""Ingest: files as users have them -> one decoded text per file ("the text as read").

Every later stage indexes `RawDocument.text`, so this package decides once what that text
is, one module per reader: plain text decoded from its bytes (`txt`), the paragraphs and
table cells of a .docx (`docx`), the text of a Word 97 .doc / WPS .wps (`doc`), the text layer
of a PDF (`pdf`), images and scanned pages through OCR (`ocr`, optional extra), the main text
of a saved web page (`html`). The reader is chosen by the file's content where its first
bytes say what it is (a .doc renamed .docx is still read), else by its extension.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reportsum.stages.ingest.base import IngestError, RawDocument, Read
from reportsum.stages.ingest.txt import _SURELY_TEXT, _looks_like_text, decode_text

__all__ = [
    "SUPPORTED", "IngestError", "InputScan", "RawDocument", "Skipped", "decode_text", "is_supported",
    "iter_inputs", "read_file", "read_text_bytes", "scan_inputs",
    "_SURELY_TEXT", "_looks_like_text",
]

SUPPORTED = (
    ".txt", ".text", ".md", ".docx", ".doc", ".wps", ".pdf", ".html", ".htm",
    ".png", ".jpg", ".jpeg", ".tif", ".tiff",
)

_KINDS = {
    ".txt": "text",
    ".text": "text",
    ".md": "text",
    ".docx": "docx",
    ".doc": "doc",
    ".wps": "doc",
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
}

# First bytes that say what a file is, whatever its name.
_MAGIC = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"PK\x03\x04", "zip"),
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"II*\x00", "image"),
    (b"MM\x00*", "image"),
)


def _sniff(data: bytes, kind: str, name: str) -> str:
    """The reader for these bytes: the content decides among the binary formats."""
    if kind in ("text", "html"):
        return kind  # a text file's bytes are checked by decoding them
    head = data[:1024].lstrip()
    for magic, found in _MAGIC:
        if data.startswith(magic) or (found == "pdf" and head.startswith(magic)):
            if found == "ole":
                return "doc"  # read_doc says clearly when the OLE file is not Word
            if found == "zip":
                if kind in ("docx", "doc"):
                    return "docx"
                raise IngestError(f"{name}: a zip archive, not a {kind} file")
            return found
    if kind in ("doc", "docx"):
        # Word can save "Word 2003 XML", HTML or RTF under .doc; say what it is
        if head.startswith(b"{\\rtf"):
            raise IngestError(f"{name}: an RTF file named {Path(name).suffix}: save it as .docx")
        if kind in ("doc", "docx"):
            lowered = head[:200].lower()
            if lowered.startswith((b"<html", b"<!doctype html")) or b"<html" in lowered:
                return "html"
            raise IngestError(f"{name}: not a Word document (neither .docx nor Word 97 content)")
    if kind in ("pdf", "image"):
        raise IngestError(f"{name}: not a {'PDF' if kind == 'pdf' else 'PNG, JPEG or TIFF'} file")
    return kind


@dataclass(frozen=True)
class Skipped:
    """A path under the inputs that is not read, and why (one line for the user)."""

    path: Path
    reason: str


@dataclass
class InputScan:
    """What the paths a user gave expand to: the files to read and everything else, named."""

    files: list[Path]
    skipped: list[Skipped]


def is_supported(path: Path) -> bool:
    """Whether a reader exists for `path`'s suffix (`SUPPORTED`, looked up at call time so a
    new reader's suffix is walked as soon as it is listed there)."""
    return path.suffix.lower() in SUPPORTED


def scan_inputs(paths: Sequence[Path], *, exclude: Sequence[Path] = ()) -> InputScan:
    """Expand the paths a user gave into the files to read, accounting for every other entry.

    Files given by name are kept as given (even with an unsupported extension, so that
    `read_file` says why it rejects them: a failed input). Folders are walked recursively in
    sorted order; linked folders are followed unless they lead back to a folder being walked.
    Every entry found that is not read is in `skipped` with its reason: unsupported file type,
    broken link, symlink loop, unreadable folder, not a regular file. Hidden files and folders
    (names starting with ".") are ignored, and so is anything under `exclude` (a batch's output
    folder). Duplicates (the same file reached twice) are dropped. A path given that does not
    exist at all raises IngestError.
    """
    files: list[Path] = []
    skipped: list[Skipped] = []
    seen: set[Path] = set()
    excluded = [Path(os.path.realpath(e)) for e in exclude]

    def is_excluded(p: Path) -> bool:
        real = Path(os.path.realpath(p))
        return any(real == e or e in real.parents for e in excluded)

    def add(p: Path) -> None:
        key = Path(os.path.realpath(p))
        if key not in seen:
            seen.add(key)
            files.append(p)

    def link_problem(p: Path) -> str | None:
        try:
            p.stat()
        except FileNotFoundError:
            return f"broken link (to {os.readlink(p)})"
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return "symlink loop"
            return f"unreadable ({exc.strerror or exc})"
        return None

    def walk(folder: Path, ancestors: frozenset[tuple[int, int]]) -> None:
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            skipped.append(Skipped(folder, f"unreadable folder ({exc.strerror or exc})"))
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            p = folder / entry.name
            if is_excluded(p):
                continue
            if entry.is_symlink():
                problem = link_problem(p)
                if problem is not None:
                    skipped.append(Skipped(p, problem))
                    continue
            try:
                st = p.stat()
            except OSError as exc:
                skipped.append(Skipped(p, f"unreadable ({exc.strerror or exc})"))
                continue
            if stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if key in ancestors:
                    skipped.append(Skipped(p, "symlink loop (links back to a folder above it)"))
                    continue
                walk(p, ancestors | {key})
            elif not stat.S_ISREG(st.st_mode):
                skipped.append(Skipped(p, "not a regular file"))
            elif is_supported(p):
                add(p)
            else:
                skipped.append(Skipped(p, f"unsupported file type '{p.suffix.lower() or '(none)'}'"))

    for given in paths:
        path = Path(given)
        if path.is_symlink():
            problem = link_problem(path)
            if problem is not None:
                skipped.append(Skipped(path, problem))
                continue
        if not path.exists():
            raise IngestError(f"{path}: no such file or directory")
        if path.is_dir():
            if is_excluded(path):
                continue
            st = path.stat()
            walk(path, frozenset({(st.st_dev, st.st_ino)}))
        else:
            add(path)
    return InputScan(files, skipped)


def iter_inputs(paths: Sequence[Path], *, exclude: Sequence[Path] = ()) -> list[Path]:
    """The files `scan_inputs` finds to read (what it skips is dropped: see `scan_inputs`)."""
    return scan_inputs(paths, exclude=exclude).files


def read_text_bytes(data: bytes, name: str, path: Path) -> RawDocument:
    """A report given as bytes (e.g. on stdin) read as plain text, as `read_file` reads a .txt."""
    if not data.strip():
        raise IngestError(f"{name}: empty input")
    text, encoding = decode_text(data, name)
    if not text.strip():
        raise IngestError(f"{name}: empty input (no text)")
    return RawDocument(path=path, text=text, encoding=encoding, kind="text",
                       sha256=hashlib.sha256(data).hexdigest())


def read_file(path: Path) -> RawDocument:
    """Read one file into a `RawDocument`; raises `IngestError` with a clear reason."""
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        shown = suffix or "(none)"
        raise IngestError(
            f"{name}: unsupported file type '{shown}' (supported: {', '.join(SUPPORTED)})"
        )
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise IngestError(f"{name}: is a folder, not a file") from None
    except OSError as exc:
        raise IngestError(f"{name}: cannot read file ({exc.strerror or exc})") from None
    if not data.strip():
        raise IngestError(f"{name}: empty file")
    kind = _sniff(data, _KINDS[suffix], name)
    read = _read(kind, data, name)
    if not read.text.strip():
        raise IngestError(f"{name}: empty file (no text)")
    return RawDocument(
        path=path,
        text=read.text,
        encoding=read.encoding,
        kind=kind,
        sha256=hashlib.sha256(data).hexdigest(),
        warnings=read.warnings,
        low_confidence=read.low_confidence,
    )


def _read(kind: str, data: bytes, name: str) -> Read:
    if kind == "text":
        text, encoding = decode_text(data, name)
        return Read(text, encoding)
    if kind == "docx":
        from reportsum.stages.ingest.docx import read_docx

        return Read(read_docx(data, name), "docx")
    if kind == "doc":
        from reportsum.stages.ingest.doc import read_doc

        return read_doc(data, name)
    if kind == "pdf":
        from reportsum.stages.ingest.pdf import read_pdf

        return read_pdf(data, name)
    if kind == "image":
        from reportsum.stages.ingest.ocr import read_image

        return read_image(data, name)
    from reportsum.stages.ingest.html import read_html

    text, encoding = read_html(data, name)
    return Read(text, encoding)
