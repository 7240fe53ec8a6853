"""Word 97-2003 (.doc) and WPS Office (.wps): the text of the binary format, read directly.

No converter is asked of the user: the text of a Word 97 file sits in its `WordDocument`
stream as "pieces" that the piece table (the CLX, in the `0Table`/`1Table` stream) lists in
order, each either UTF-16 or an 8-bit compressed run. WPS Office's .wps is the same format
(Kingsoft writes a Word 97 `WordDocument` stream). Reading it here, over olefile, keeps the
text exact on Chinese (antiword and catdoc guess code pages for CJK and lose characters) and
needs neither LibreOffice nor a Debian package. Field codes ({ PAGE }, { HYPERLINK ... }) are
dropped and their results kept; paragraph, cell and line marks become line breaks.
"""

from __future__ import annotations

import struct
from io import BytesIO

from reportsum.stages.ingest.base import IngestError, Read

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_WORD_IDENT = 0xA5EC
# FIB offsets (MS-DOC 2.5): flags, ccpText in FibRgLw97, fcClx/lcbClx in FibRgFcLcb97.
_FLAGS = 0x000A
_F_ENCRYPTED = 0x0100
_F_WHICH_TABLE = 0x0200
# Line-breaking marks: paragraph, cell/row end, manual line break, page/section break, column.
_BREAKS = {"\r": "\n", "\x07": "\n", "\x0b": "\n", "\x0c": "\n", "\x0e": "\n"}
_FIELD_BEGIN, _FIELD_SEP, _FIELD_END = "\x13", "\x14", "\x15"


def read_doc(data: bytes, name: str) -> Read:
    import olefile

    try:
        ole = olefile.OleFileIO(BytesIO(data))
    except (OSError, ValueError) as exc:
        raise IngestError(f"{name}: not a readable Word 97 file ({exc})") from None
    try:
        if ole.exists("EncryptedPackage"):
            raise IngestError(f"{name}: password-protected Word file")
        if not ole.exists("WordDocument"):
            kind = "Microsoft Works or another OLE file" if ole.exists("CONTENTS") else "an OLE file"
            raise IngestError(f"{name}: {kind}, not a Word 97 / WPS document")
        word = ole.openstream("WordDocument").read()
        if len(word) < 0x1AA or struct.unpack_from("<H", word, 0)[0] != _WORD_IDENT:
            raise IngestError(f"{name}: not a Word 97 document (bad header)")
        flags = struct.unpack_from("<H", word, _FLAGS)[0]
        if flags & _F_ENCRYPTED:
            raise IngestError(f"{name}: password-protected Word file")
        table_name = "1Table" if flags & _F_WHICH_TABLE else "0Table"
        if not ole.exists(table_name):
            raise IngestError(f"{name}: Word 95 or older (no piece table): save it as .doc 97-2003 or .docx")
        table = ole.openstream(table_name).read()
    finally:
        ole.close()
    try:
        text = _piece_text(word, table)
    except (struct.error, IndexError, ValueError) as exc:
        raise IngestError(f"{name}: damaged Word file ({exc})") from None
    return Read(_plain(text), "doc")


def _fib_offsets(word: bytes) -> tuple[int, int, int]:
    """(ccpText, fcClx, lcbClx), walking the FIB's variable-length parts (MS-DOC 2.5.1)."""
    pos = 32
    csw = struct.unpack_from("<H", word, pos)[0]
    pos += 2 + 2 * csw
    cslw = struct.unpack_from("<H", word, pos)[0]
    rg_lw = pos + 2
    ccp_text = struct.unpack_from("<i", word, rg_lw + 3 * 4)[0]
    pos = rg_lw + 4 * cslw
    cb_rg_fc_lcb = struct.unpack_from("<H", word, pos)[0]
    rg_fc_lcb = pos + 2
    if cb_rg_fc_lcb < 34:
        raise ValueError("FIB too short for a piece table")
    fc_clx, lcb_clx = struct.unpack_from("<II", word, rg_fc_lcb + 33 * 8)
    return ccp_text, fc_clx, lcb_clx


def _piece_text(word: bytes, table: bytes) -> str:
    """The main document's characters (CP 0..ccpText) from the piece table."""
    ccp_text, fc_clx, lcb_clx = _fib_offsets(word)
    clx = table[fc_clx : fc_clx + lcb_clx]
    pos = 0
    # Prc blocks (direct formatting) come first; the Pcdt (0x02) holds the piece table
    while pos < len(clx) and clx[pos] == 0x01:
        pos += 3 + struct.unpack_from("<h", clx, pos + 1)[0]
    if pos >= len(clx) or clx[pos] != 0x02:
        raise ValueError("no piece table")
    lcb = struct.unpack_from("<I", clx, pos + 1)[0]
    plc = clx[pos + 5 : pos + 5 + lcb]
    n = (len(plc) - 4) // 12
    cps = struct.unpack_from(f"<{n + 1}I", plc, 0)
    out: list[str] = []
    for k in range(n):
        start, end = cps[k], min(cps[k + 1], ccp_text)
        if end <= start:
            continue
        fc_raw = struct.unpack_from("<I", plc, 4 * (n + 1) + 8 * k + 2)[0]
        count = end - start
        if fc_raw & 0x40000000:
            fc = (fc_raw & 0x3FFFFFFF) // 2
            out.append(word[fc : fc + count].decode("cp1252", errors="replace"))
        else:
            fc = fc_raw & 0x3FFFFFFF
            out.append(word[fc : fc + 2 * count].decode("utf-16-le", errors="replace"))
    return "".join(out)


def _plain(text: str) -> str:
    """Marks to line breaks; field codes out, field results in; other controls dropped."""
    out: list[str] = []
    # a stack of open fields: True while inside a field's code (before its separator)
    fields: list[bool] = []
    for ch in text:
        if ch == _FIELD_BEGIN:
            fields.append(True)
        elif ch == _FIELD_SEP:
            if fields:
                fields[-1] = False
        elif ch == _FIELD_END:
            if fields:
                fields.pop()
        elif any(fields):
            continue
        elif ch in _BREAKS:
            out.append(_BREAKS[ch])
        elif ch == "\x1e":  # non-breaking hyphen
            out.append("-")
        elif ch < " " and ch != "\t":
            continue  # pictures (\x01), footnote marks (\x02), optional hyphens (\x1f)...
        else:
            out.append(ch)
    lines = [line.rstrip() for line in "".join(out).split("\n")]
    return "\n".join(lines).strip("\n")
