"""What a shared object says it needs: ELF ``DT_NEEDED``, ``DT_SONAME``, ``DT_RUNPATH``.

Read from the program headers only — pyelftools parses the ELF and program
headers (its struct definitions cached per ELF flavour), then the dynamic
segment (``PT_DYNAMIC``, an array of ``(d_tag, d_val)`` pairs, ELF gABI) and
the strings ``DT_STRTAB`` points at are read directly — never by loading
the file, and never reading more than a fixed budget of bytes: the section
header table (at the end of the file, absent from stripped objects) is
ignored, so a 1 GB ``libtorch_cpu.so`` costs a few pages, not a gigabyte.

The bytes come from a ``read_at(offset, size)`` callback, so the same parser
serves a host file (``os.pread``) and an image member streamed from a tar
(:class:`ForwardReader`, which can only move forwards).  Anything that is not
a well-formed ELF shared object — truncated, hostile, another format — gives
``None`` from :func:`read_dynamic`; the caller records a note, never a
traceback.
"""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Callable
from typing import Any, Protocol

from envcheck.record import record

ELF_MAGIC = b"\x7fELF"
# The most bytes one object may cost: headers, PT_DYNAMIC and DT_STRTAB's
# strings together are a few KiB in real objects; a hostile header pointing
# everywhere stops here.
READ_BUDGET = 1024 * 1024
# Tags kept at most (a real object has tens; a hostile one could claim millions).
MAX_TAGS = 4096
_PAGE = 4096

ReadAt = Callable[[int, int], bytes]


class _BudgetExceeded(Exception):
    pass


@record
class ElfDynamic:
    """The dynamic-linking facts of one ELF object."""

    needed: tuple[str, ...] = ()
    soname: str | None = None
    runpath: tuple[str, ...] = ()  # DT_RUNPATH, else DT_RPATH, split on ':'
    machine: str | None = None  # e_machine as pyelftools names it ("EM_X86_64")


class _PagedStream(io.RawIOBase):
    """A seekable view over ``read_at`` that fetches pages on demand, up to a budget.

    The first page carries a patched ELF header with no section headers, so
    pyelftools walks segments only and never seeks to ``e_shoff``.
    """

    def __init__(self, read_at: ReadAt, first: bytes, budget: int, size: int) -> None:
        super().__init__()
        self._size = size
        self._read_at = read_at
        self._pages: dict[int, bytes] = {0: first}
        self._pos = 0
        self._budget = budget - len(first)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence == 0:
            self._pos = pos
        elif whence == 1:
            self._pos += pos
        else:
            self._pos = self._size + pos
        if self._pos < 0:
            raise OSError("negative seek")
        return self._pos

    def _page(self, index: int) -> bytes:
        page = self._pages.get(index)
        if page is None:
            if self._budget < _PAGE:
                raise _BudgetExceeded
            page = self._read_at(index * _PAGE, _PAGE)
            self._budget -= _PAGE
            self._pages[index] = page
        return page

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        want = len(buffer)
        out = bytearray()
        pos = self._pos
        while len(out) < want:
            page = self._page(pos // _PAGE)
            start = pos % _PAGE
            chunk = page[start : start + want - len(out)]
            if not chunk:
                break
            out += chunk
            pos += len(chunk)
            if len(page) < _PAGE:
                break  # end of file
        buffer[: len(out)] = out
        self._pos = pos
        return len(out)


def _strip_sections(first: bytes) -> bytes | None:
    """The first page with ``e_shoff``/``e_shnum``/``e_shstrndx`` zeroed, or None if not ELF."""
    if len(first) < 52 or first[:4] != ELF_MAGIC or first[4] not in (1, 2) or first[5] not in (1, 2):
        return None
    wide, endian = first[4] == 2, "<" if first[5] == 1 else ">"
    if wide:
        if len(first) < 64:
            return None
        head = bytearray(first)
        struct.pack_into(endian + "Q", head, 0x28, 0)  # e_shoff
        struct.pack_into(endian + "HH", head, 0x3C, 0, 0)  # e_shnum, e_shstrndx
    else:
        head = bytearray(first)
        struct.pack_into(endian + "I", head, 0x20, 0)
        struct.pack_into(endian + "HH", head, 0x30, 0, 0)
    return bytes(head)


def read_dynamic(read_at: ReadAt, size: int, *, budget: int = READ_BUDGET) -> ElfDynamic | None:
    """The dynamic section of the ``size``-byte ELF object behind ``read_at``; None when it is not one we can read."""
    from elftools.common.exceptions import ELFError, ELFParseError
    from elftools.construct import ConstructError

    try:
        first = _strip_sections(read_at(0, _PAGE))
        if first is None:
            return None
        return _read(_PagedStream(read_at, first, budget, size), first)
    # A hostile object can make the parse fail in many ways (bad offsets,
    # impossible counts); all of them mean "not an object we can read", which
    # the caller notes.
    except (
        _BudgetExceeded,
        ELFError,
        ELFParseError,
        ConstructError,
        struct.error,
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        AttributeError,
        AssertionError,
        OverflowError,
        RecursionError,
        UnicodeDecodeError,
        OSError,
        EOFError,
    ):
        return None


# pyelftools' struct definitions per (endianness, class, e_type, e_machine,
# osabi): building them is most of the cost of opening an ELFFile, and an
# environment's extensions share one or two combinations.
_STRUCTS: dict[tuple[Any, ...], Any] = {}


def _structs(little: bool, elfclass: int, header: Any = None) -> Any:
    from elftools.elf.structs import ELFStructs

    key = (
        (little, elfclass)
        if header is None
        else (little, elfclass, header["e_type"], header["e_machine"], header["e_ident"]["EI_OSABI"])
    )
    cached = _STRUCTS.get(key)
    if cached is None:
        cached = ELFStructs(little_endian=little, elfclass=elfclass)
        cached.create_basic_structs()
        if header is not None:
            cached.create_advanced_structs(header["e_type"], header["e_machine"], header["e_ident"]["EI_OSABI"])
        _STRUCTS[key] = cached
    return cached


def _read(stream: _PagedStream, first: bytes) -> ElfDynamic | None:
    """Program headers → PT_DYNAMIC → DT_* entries; strings from DT_STRTAB mapped through PT_LOAD."""
    from elftools.common.utils import struct_parse
    from elftools.elf.enums import ENUM_D_TAG_COMMON, ENUM_P_TYPE_BASE

    little, elfclass = first[5] == 1, 64 if first[4] == 2 else 32
    header = struct_parse(_structs(little, elfclass).Elf_Ehdr, io.BytesIO(first), 0)
    if header["e_type"] not in ("ET_DYN", "ET_EXEC"):
        return None
    structs = _structs(little, elfclass, header)
    phnum = min(int(header["e_phnum"]), 512)
    phentsize = int(header["e_phentsize"])
    if phentsize < structs.Elf_Phdr.sizeof():
        return None
    loads: list[tuple[int, int, int]] = []
    dynamic: tuple[int, int] | None = None
    # Program headers unpacked directly (gABI layout; construct costs ~0.3 ms each).
    stream.seek(int(header["e_phoff"]))
    table = stream.read(phnum * phentsize)
    end = "<" if little else ">"
    for i in range(len(table) // phentsize):
        row = table[i * phentsize : (i + 1) * phentsize]
        if elfclass == 64:
            p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz = struct.unpack_from(end + "IIQQQQ", row)
        else:
            p_type, p_offset, p_vaddr, _paddr, p_filesz = struct.unpack_from(end + "IIIII", row)
        if p_type == ENUM_P_TYPE_BASE["PT_LOAD"]:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == ENUM_P_TYPE_BASE["PT_DYNAMIC"] and dynamic is None:
            dynamic = (p_offset, p_filesz)
    if dynamic is None:
        return ElfDynamic(machine=str(header["e_machine"]))
    entry = 16 if elfclass == 64 else 8
    count = min(dynamic[1] // entry, MAX_TAGS)
    stream.seek(dynamic[0])
    raw = stream.read(count * entry)
    fmt = ("<" if little else ">") + ("qQ" if elfclass == 64 else "iI")
    tags: list[tuple[int, int]] = []
    for tag, value in struct.iter_unpack(fmt, raw[: len(raw) - len(raw) % entry]):
        if tag == ENUM_D_TAG_COMMON["DT_NULL"]:
            break
        tags.append((tag, value))
    strtab = next((v for t, v in tags if t == ENUM_D_TAG_COMMON["DT_STRTAB"]), None)
    strsz = next((v for t, v in tags if t == ENUM_D_TAG_COMMON["DT_STRSZ"]), 1 << 20)
    base = next((off + strtab - va for va, off, sz in loads if strtab is not None and va <= strtab < va + sz), None)
    if base is None:
        return None

    def string(offset: int) -> str:
        if offset >= strsz:
            raise ValueError("string outside DT_STRTAB")
        stream.seek(base + offset)
        chunk = stream.read(min(512, strsz - offset))
        return _clean(chunk.split(b"\0", 1)[0])

    names = {ENUM_D_TAG_COMMON[k]: k for k in ("DT_NEEDED", "DT_SONAME", "DT_RUNPATH", "DT_RPATH")}
    needed: list[str] = []
    found: dict[str, str] = {}
    for tag, value in tags:
        name = names.get(tag)
        if name == "DT_NEEDED":
            needed.append(string(value))
        elif name is not None and name not in found:
            found[name] = string(value)
    paths = found.get("DT_RUNPATH", found.get("DT_RPATH"))
    return ElfDynamic(
        needed=tuple(n for n in needed if n),
        soname=found.get("DT_SONAME") or None,
        runpath=tuple(p for p in (paths or "").split(":") if p),
        machine=str(header["e_machine"]),
    )


def _clean(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).strip()[:512]


def read_dynamic_file(path: str | os.PathLike[str], *, budget: int = READ_BUDGET) -> ElfDynamic | None:
    """:func:`read_dynamic` of a file on this machine (positional reads, nothing mapped or loaded)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        size = os.fstat(fd).st_size
        return read_dynamic(lambda offset, n: os.pread(fd, n, offset), size, budget=budget)
    finally:
        os.close(fd)


def is_elf(path: str | os.PathLike[str]) -> bool:
    """Does the file start with the ELF magic (Mach-O and PE extensions do not)?"""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == ELF_MAGIC
    except OSError:
        return False


class ByteStream(Protocol):
    """Anything with ``read(n)``: an open file, a tar member, an archive's byte window."""

    def read(self, n: int = -1, /) -> bytes: ...


class ForwardReader:
    """``read_at`` over a stream that only moves forwards (a tar member being streamed).

    The first ``keep_head`` bytes are kept as they pass (headers and the
    dynamic string table live there); further on, only the pages asked for
    are kept and the bytes between are read and dropped, so memory stays
    small however far in the dynamic segment sits.  A request behind the
    stream (and not kept), or beyond ``cap``, gets nothing, which ends the
    parse as a truncated file.
    """

    def __init__(self, fh: ByteStream, cap: int, keep_head: int = 1024 * 1024) -> None:
        self._fh = fh
        self._cap = cap
        self._keep_head = keep_head
        self._head = bytearray()
        self._kept: dict[int, bytes] = {}
        self._pos = 0
        # A member on disk (a FileRange) can move forward without reading what
        # it passes: past the kept head, those bytes would only be dropped.
        self._skip: Callable[[int], int] | None = getattr(fh, "skip", None)

    def _consume(self, n: int) -> bytes:
        data = self._fh.read(n)
        if self._pos < self._keep_head:
            self._head += data[: self._keep_head - self._pos]
        self._pos += len(data)
        return data

    def __call__(self, offset: int, size: int) -> bytes:
        end = min(offset + size, self._cap)
        if end <= offset:
            return b""
        if end <= len(self._head) or offset < self._pos:
            hit = self._kept.get(offset)
            if hit is not None:
                return hit[: end - offset]
            return bytes(self._head[offset:end])
        while self._pos < offset:
            if self._skip is not None and self._pos >= self._keep_head:
                gap = offset - self._pos
                moved = self._skip(gap)
                self._pos += moved
                if moved < gap:
                    return b""  # the end of the data, as a read through it would find
                break
            if not self._consume(min(offset - self._pos, 1024 * 1024)):
                return b""
        out = bytearray()
        while len(out) < end - offset:
            chunk = self._consume(end - offset - len(out))
            if not chunk:
                break
            out += chunk
        data = bytes(out)
        self._kept[offset] = data
        return data
