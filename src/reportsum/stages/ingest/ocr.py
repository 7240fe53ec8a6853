"""OCR for scanned PDFs and images: rapidocr (PP-OCR models shipped in its wheel) on onnxruntime.

Optional: `pip install 'reportsum[ocr]'`. Offline by construction: rapidocr 3 ships its
detection, classification and recognition models inside the wheel and loads them from there.
Each recognised line carries the recogniser's score; lines scored below `LOW_SCORE` are
returned as spans so the items quoting them can say "check this by eye".
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from reportsum.stages.ingest.base import IngestError, Read

HOW_TO_INSTALL = "install the OCR extra: pip install 'reportsum[ocr]'"
# Page images are rendered at 144 dpi: PP-OCR reads 10.5pt CJK reliably from there up.
RENDER_SCALE = 2.0
# A line scored below this is flagged on the items that quote it.
LOW_SCORE = 0.9


def available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("rapidocr", "onnxruntime"))


@lru_cache(maxsize=1)
def _engine() -> Any:
    from rapidocr import RapidOCR

    return RapidOCR(params={"Global.log_level": "error"})


def _is_cjk(ch: str) -> bool:
    return "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"


def _lines(boxes: Sequence[Any], txts: Sequence[str], scores: Sequence[float]) -> list[tuple[str, float]]:
    """Boxes grouped into lines (top to bottom, left to right), each with its lowest score."""
    items = []
    for box, text, score in zip(boxes, txts, scores, strict=True):
        ys = [float(p[1]) for p in box]
        xs = [float(p[0]) for p in box]
        items.append((min(ys), max(ys), min(xs), max(xs), text, float(score)))
    items.sort(key=lambda it: (it[0] + it[1]) / 2)
    rows: list[list[tuple[float, float, float, float, str, float]]] = []
    for it in items:
        mid = (it[0] + it[1]) / 2
        if rows:
            top = min(r[0] for r in rows[-1])
            bottom = max(r[1] for r in rows[-1])
            if top <= mid <= bottom:
                rows[-1].append(it)
                continue
        rows.append([it])
    out: list[tuple[str, float]] = []
    for row in rows:
        row.sort(key=lambda it: it[2])
        text = ""
        prev_right = None
        height = max(it[1] - it[0] for it in row)
        for _top, _bottom, left, right, piece, _ in row:
            if text and prev_right is not None:
                gap = left - prev_right
                if gap > height or not (_is_cjk(text[-1]) or _is_cjk(piece[:1] or " ")):
                    text += " "
            text += piece
            prev_right = right
        out.append((text, min(it[5] for it in row)))
    return out


def recognise_pages(images: Sequence[Any], name: str) -> list[tuple[str, list[tuple[int, int]]]]:
    """Per page image: its text (lines joined by "\\n") and the spans of low-scored lines."""
    try:
        engine = _engine()
    except Exception as exc:  # a broken install: onnxruntime or a model that will not load
        raise IngestError(f"{name}: OCR engine failed to start ({type(exc).__name__}: {exc})") from None
    pages: list[tuple[str, list[tuple[int, int]]]] = []
    for image in images:
        try:
            result = engine(image)
        except Exception as exc:
            raise IngestError(f"{name}: OCR failed ({type(exc).__name__}: {exc})") from None
        if result.txts is None or result.boxes is None:
            pages.append(("", []))
            continue
        lines = _lines(list(result.boxes), list(result.txts), list(result.scores))
        text = ""
        low: list[tuple[int, int]] = []
        for line, score in lines:
            if text:
                text += "\n"
            if score < LOW_SCORE:
                low.append((len(text), len(text) + len(line)))
            text += line
        pages.append((text, low))
    return pages


def read_image(data: bytes, name: str) -> Read:
    """A PNG, JPEG or (multi-page) TIFF image of text."""
    if not available():
        raise IngestError(f"{name}: an image needs OCR: {HOW_TO_INSTALL}")
    from io import BytesIO

    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(BytesIO(data))
        frames = [frame.convert("RGB") for frame in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise IngestError(f"{name}: not a readable image ({exc})") from None
    pages = recognise_pages(frames, name)
    parts: list[str] = []
    low: list[tuple[int, int]] = []
    pos = 0
    for text, page_low in pages:
        low.extend((pos + s, pos + e) for s, e in page_low)
        parts.append(text)
        pos += len(text) + 2
    return Read("\f\n".join(parts), "ocr", warnings=("ocr",), low_confidence=tuple(low))
