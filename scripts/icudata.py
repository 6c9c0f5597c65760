"""Trim the ICU data library that PySide6's Qt links to, for the packaged program (build.spec).

Qt's Linux wheels link ICU, whose data library (`libicudata.so.73`, 32 MB) holds every ICU data
tree. Qt itself calls only collation (QCollator), charset converters (QStringConverter) and the
calendar/time-zone names (QTimeZone) - see `nm -D --undefined-only libQt6Core.so.6 | grep _73`. The
data nothing in Qt reaches (unit, currency, language and region display names, transliteration,
spelled-out numbers, character names, stringprep and spoof-check tables, and the word-break
dictionaries for Chinese, Japanese, Thai, Khmer, Lao and Burmese) is left out, and so are time-zone
names in languages other than English (the app's language: they would fall back to "GMT+2").
Collation and converters stay whole. The result is a library with the same soname exporting the
same symbol (`icudt<N>_dat`), built with binutils (objcopy, ld).

    python scripts/icudata.py SRC DST      # prints the sizes before and after
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

# Item names inside the common data look like "icudt73l/coll/de.res"; these are dropped.
DROPPED = re.compile(
    r"^icudt\d+[lb]/(unit|curr|lang|region|translit|rbnf)/"  # whole trees Qt never opens
    r"|\.dict$"  # word-break dictionaries (Qt breaks text itself)
    r"|/(unames\.icu|confusables\.cfu|[^/]+\.spp)$"  # character names, spoof checks, stringprep
    # time-zone names in languages other than English, the app's language (root and English stay)
    r"|/zone/(?!(root|en|pool|res_index|tzdbNames)[^/]*$)[^/]+$"
)
_ALIGN = 16  # ICU wants every item 16-byte aligned
_PAD = b"\xaa"  # what ICU's own packager pads with, so an untouched file packs back byte for byte


class IcuDataError(RuntimeError):
    """The library is not what this tool understands; the build keeps the original."""


def _binutil(tool: str, *args: str, cwd: Path | None = None) -> str:
    """Run one of binutils' tools (found on PATH) and return what it printed."""
    executable = shutil.which(tool)
    if executable is None:
        raise IcuDataError(f"{tool} not found (Debian: apt-get install binutils)")
    command = [executable, *args]
    return subprocess.run(command, check=True, capture_output=True, text=True, cwd=cwd).stdout  # noqa: S603


def _data_symbol(library: Path) -> tuple[str, int, int]:
    """Name, file offset and size of the `icudt<N>_dat` symbol, read with readelf."""
    symbols = _binutil("readelf", "-W", "--dyn-syms", str(library))
    exported = r":\s+([0-9a-f]+)\s+(\d+|0x[0-9a-f]+)\s+OBJECT\s+GLOBAL\s+\w+\s+(\d+)\s+(icudt\d+_dat)$"
    match = re.search(exported, symbols, re.M)
    if match is None:
        raise IcuDataError(f"{library}: no icudt*_dat symbol")
    address, size, section, name = int(match[1], 16), int(match[2], 0), int(match[3]), match[4]
    sections = _binutil("readelf", "-W", "-S", str(library))
    row = re.search(rf"\[\s*{section}\]\s+\S+\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)", sections)
    if row is None:
        raise IcuDataError(f"{library}: section {section} not found")
    section_address, section_offset = int(row[1], 16), int(row[2], 16)
    return name, address - section_address + section_offset, size


def common_data(library: Path) -> tuple[str, bytes]:
    """The exported symbol's name and the ICU common data it points to."""
    symbol, offset, size = _data_symbol(library)
    return symbol, library.read_bytes()[offset : offset + size]


def items(common: bytes) -> tuple[int, list[tuple[str, bytes]]]:
    """Split ICU common data ("CmnD") into its header size and (name, data) items, in TOC order."""
    header_size = struct.unpack_from("<H", common, 0)[0]
    if common[2:4] != b"\xda\x27" or common[12:16] != b"CmnD":
        raise IcuDataError("not ICU common data")
    count = struct.unpack_from("<I", common, header_size)[0]
    toc = [struct.unpack_from("<II", common, header_size + 4 + 8 * i) for i in range(count)]
    result = []
    for index, (name_offset, data_offset) in enumerate(toc):
        start = header_size + name_offset
        name = common[start : common.index(b"\0", start)].decode("ascii")
        end = header_size + toc[index + 1][1] if index + 1 < count else len(common)
        result.append((name, common[header_size + data_offset : end]))
    return header_size, result


def pack(header: bytes, kept: list[tuple[str, bytes]]) -> bytes:
    """Lay out common data again: header, TOC, names, then each item on a 16-byte boundary."""
    names = b"".join(name.encode("ascii") + b"\0" for name, _ in kept)
    toc_size = 4 + 8 * len(kept)
    data_start = -(-(toc_size + len(names)) // _ALIGN) * _ALIGN
    name_offsets, data_offsets, blob = [], [], bytearray()
    name_cursor = toc_size
    for name, data in kept:
        name_offsets.append(name_cursor)
        name_cursor += len(name) + 1
        data_offsets.append(data_start + len(blob))
        blob += data + _PAD * (-len(data) % _ALIGN)
    toc = struct.pack("<I", len(kept)) + b"".join(
        struct.pack("<II", n, d) for n, d in zip(name_offsets, data_offsets, strict=True)
    )
    body = toc + names
    return header + body + _PAD * (data_start - len(body)) + bytes(blob)


def _link(common: bytes, symbol: str, soname: str, destination: Path) -> None:
    """A shared library whose only content is `common`, exported read-only as `symbol`."""
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        (work / "icu.dat").write_bytes(common)
        _binutil(
            "objcopy", "-I", "binary", "-O", "elf64-x86-64", "-B", "i386:x86-64",
            "--rename-section", ".data=.rodata,alloc,load,readonly,data,contents",
            "--set-section-alignment", f".rodata={_ALIGN}",
            "--redefine-sym", f"_binary_icu_dat_start={symbol}",
            "--strip-symbol", "_binary_icu_dat_end", "--strip-symbol", "_binary_icu_dat_size",
            "icu.dat", "icu.o", cwd=work,
        )  # fmt: skip
        _binutil("ld", "-shared", "-soname", soname, "-o", "lib.so", "icu.o", cwd=work)
        shutil.copyfile(work / "lib.so", destination)


def trim(source: Path, destination: Path) -> tuple[int, int]:
    """Write the trimmed library to `destination`; returns (bytes before, bytes after)."""
    symbol, common = common_data(source)
    header_size, all_items = items(common)
    kept = [(name, data) for name, data in all_items if not DROPPED.search(name)]
    _link(pack(common[:header_size], kept), symbol, source.name, destination)
    return source.stat().st_size, destination.stat().st_size


if __name__ == "__main__":
    before, after = trim(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"{sys.argv[1]}: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB")
