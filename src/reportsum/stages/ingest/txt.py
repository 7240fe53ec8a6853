"""Plain text: decoded from its bytes, never trusting the extension for the encoding."""

from __future__ import annotations

import codecs
import re
import unicodedata

from reportsum.stages.ingest.base import IngestError, normalise_newlines


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x3400 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FA1F


# Characters that are never controls, unassigned or private (checked in the tests against
# unicodedata): printable ASCII and Latin-1, CJK ideographs, CJK and fullwidth punctuation.
# Only the others need a category lookup, which a per-character loop made the slowest step of
# reading a large file.
_SURELY_TEXT = re.compile(r"[\t\n\f\r\x20-\x7e\xa0-\xff\u3000-\u303f\u4e00-\u9fff\uff01-\uff9f]+")


def _looks_like_text(text: str) -> bool:
    """True when few characters are controls or unassigned: decoded noise fails this."""
    if not text:
        return False
    bad = sum(
        1
        for ch in _SURELY_TEXT.sub("", text)
        if unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs") or ch == "\ufffd"
    )
    return bad / len(text) < 0.02


def _mostly_cjk(text: str) -> bool:
    """Among non-ASCII letters, CJK ideographs and CJK punctuation dominate (Chinese text)."""
    non_ascii = [ch for ch in text if ord(ch) > 0x7F and not ch.isspace()]
    if not non_ascii:
        return False
    cjk = sum(1 for ch in non_ascii if _is_cjk(ch) or 0x3000 <= ord(ch) <= 0x303F or 0xFF00 <= ord(ch) <= 0xFFEF)
    return cjk / len(non_ascii) > 0.7


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 without a BOM: ASCII characters (digits, newlines) leave NULs on one parity."""
    if len(data) % 2:
        return None
    even = data[0::2].count(0)
    odd = data[1::2].count(0)
    if odd > 3 * even and odd > 0:
        codec = "utf-16-le"
    elif even > 3 * odd and even > 0:
        codec = "utf-16-be"
    else:
        return None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    return codec if _looks_like_text(text) else None


def decode_text(data: bytes, name: str = "<bytes>") -> tuple[str, str]:
    """Decode the bytes of a text file; returns (text with "\\n" line endings, encoding).

    Order matters on Chinese text: strict UTF-8 first (it almost never decodes anything
    else), then BOMs, then UTF-16 by its NUL pattern, then GB18030 when it decodes strictly
    into mostly CJK (charset-normalizer alone sometimes calls GBK Big5), then
    charset-normalizer for everything else.
    """
    for bom, codec, label in (
        (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError:
                raise IngestError(f"{name}: starts with a {label} byte-order mark but is not valid {label}") from None
            return _finish(text, label, name)
    if b"\x00" not in data:
        try:
            return _finish(data.decode("utf-8"), "utf-8", name)
        except UnicodeDecodeError:
            pass
    else:
        utf16 = _utf16_without_bom(data)
        if utf16 is None:
            raise IngestError(f"{name}: binary file, not text")
        return _finish(data.decode(utf16), utf16, name)
    for codec in ("gbk", "gb18030"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if _mostly_cjk(text) and _looks_like_text(text):
            return _finish(text, codec, name)
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None:
        text = str(best)
        if _looks_like_text(text):
            return _finish(text, best.encoding, name)
    raise IngestError(f"{name}: binary file, not text (no text encoding decodes it)")


def _finish(text: str, encoding: str, name: str) -> tuple[str, str]:
    text = normalise_newlines(text)
    if not _looks_like_text(text):
        raise IngestError(f"{name}: binary file, not text")
    if not text.strip():
        raise IngestError(f"{name}: empty file (only whitespace)")
    return text, encoding
