"""Assembled kernels cached per (kernel source, architecture, defines), in memory and on disk.

Assembling a bundled quantization kernel takes longer than quantizing a 4096 x 4096 tensor
(building the parser alone is a quarter of a second), and every `pimisa quantize` run, every
band worker and every tensor of a checkpoint needs the same few kernels. `assemble_cached`
returns the Program `pimisa.asm.assemble_file` would, from

- this process's memory, while the kernel and its included files keep their size and
  modification time;
- else an entry of the on-disk cache, `$PIMISA_CACHE_DIR` or `$XDG_CACHE_HOME/pimisa/kernels`
  (default `~/.cache/pimisa/kernels`; `PIMISA_CACHE_DIR=off` turns it off). An entry is named
  by a hash of the kernel source's path and bytes, the architecture, the defines and the
  assembler itself (its source files and the ISA), and holds the .pimb image with the hash of
  every file the kernel included. An entry whose included files changed, or that is
  truncated, corrupt or written by another version, is ignored and rebuilt;
- else the assembler, writing the entry atomically (a temporary file renamed into place, so
  concurrent processes never read half an entry). A cache that cannot be written is skipped.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import struct
from pathlib import Path

from pimisa.arch import Arch
from pimisa.errors import PimisaError
from pimisa.fileio import atomic_write_bytes
from pimisa.program import Program, program_from_bytes

MAGIC = b"PIMISA-KERNEL-CACHE\n"
ENTRY_VERSION = 1
_HEAD = struct.Struct("<I")  # length of the JSON header that follows MAGIC
ENV = "PIMISA_CACHE_DIR"
SUFFIX = ".pimk"

_MEMORY: dict[str, tuple[Program, tuple]] = {}


def cache_dir() -> Path | None:
    """The on-disk cache directory, or None when turned off (PIMISA_CACHE_DIR=off)."""
    env = os.environ.get(ENV)
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "none") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pimisa" / "kernels"


@functools.lru_cache(maxsize=1)
def toolchain_fingerprint() -> str:
    """A hash of what decides an assembled kernel besides its inputs: the assembler's source
    files, the program format, the ISA and the pimisa version."""
    import importlib.util

    import pimisa
    from pimisa import isa, program

    h = hashlib.sha256(f"{pimisa.__version__}|{isa.ISA_HASH}|{ENTRY_VERSION}".encode())
    spec = importlib.util.find_spec("pimisa.asm")  # located, not imported (it loads lark)
    assert spec is not None and spec.submodule_search_locations
    files = sorted(Path(next(iter(spec.submodule_search_locations))).iterdir())
    files += [Path(isa.__file__), Path(program.__file__), Path(__file__)]
    for path in files:
        if path.suffix in (".py", ".lark"):
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _stamps(paths: list[str]) -> tuple:
    """(path, size, mtime) of each file, None for one that cannot be stat'ed."""
    out = []
    for path in paths:
        try:
            st = os.stat(path)
            out.append((path, st.st_size, st.st_mtime_ns))
        except (OSError, ValueError):
            out.append((path, None, None))
    return tuple(out)


def entry_key(source: bytes, path: str, arch: Arch, defines: dict[str, int] | None) -> str:
    """The cache key of a kernel: its source's path and bytes, `arch`, `defines` and the
    toolchain."""
    doc = [toolchain_fingerprint(), os.path.realpath(path), _digest(source), repr(arch),
           sorted((defines or {}).items())]
    return _digest(json.dumps(doc).encode())


def _deps(program: Program) -> list[str]:
    """The real files a program was assembled from (sources and includes)."""
    return [f for f in program.files if not f.startswith("<")]


def _file_digest(path: str) -> str | None:
    try:
        return _digest(Path(path).read_bytes())
    except (OSError, ValueError):
        return None


def read_entry(path: Path, key: str) -> Program | None:
    """The Program of cache entry `path` if it is intact, written for `key` and its included
    files are unchanged; None otherwise (a miss: the caller rebuilds)."""
    try:
        data = path.read_bytes()
        if not data.startswith(MAGIC):
            return None
        (size,) = _HEAD.unpack_from(data, len(MAGIC))
        start = len(MAGIC) + _HEAD.size
        head = json.loads(data[start:start + size].decode("utf-8"))
        image = data[start + size:]
        if head.get("key") != key or head.get("digest") != _digest(image):
            return None
        if any(_file_digest(dep) != want for dep, want in head["deps"]):
            return None
        return program_from_bytes(image, str(path))
    except (OSError, ValueError, KeyError, TypeError, struct.error, PimisaError):
        return None


def write_entry(path: Path, key: str, program: Program) -> None:
    """Store `program` under `path` atomically; silently skipped if the cache is unwritable."""
    image = program.to_bytes()
    deps = [[dep, _file_digest(dep)] for dep in _deps(program)]
    head = json.dumps({"key": key, "digest": _digest(image), "deps": deps}).encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, MAGIC + _HEAD.pack(len(head)) + head + image)
    except (OSError, PimisaError):
        pass  # an unwritable cache only costs speed


def assemble_cached(path: str | Path, arch: Arch, defines: dict[str, int] | None = None
                    ) -> Program:
    """`pimisa.asm.assemble_file(path, arch, defines)`, from the caches when they hold it."""
    from pimisa.fileio import read_regular

    where = str(path)
    source = read_regular(where, "source")
    key = entry_key(source, where, arch, defines)
    hit = _MEMORY.get(key)
    if hit is not None and _stamps(_deps(hit[0])) == hit[1]:
        return hit[0]
    directory = cache_dir()
    entry = directory / (key + SUFFIX) if directory is not None else None
    program = read_entry(entry, key) if entry is not None else None
    if program is None:
        from pimisa.asm import assemble_file

        program = assemble_file(where, arch, defines)
        if entry is not None:
            write_entry(entry, key, program)
    _MEMORY[key] = (program, _stamps(_deps(program)))
    return program


def clear_memory() -> None:
    """Forget the in-memory entries (the disk cache stays)."""
    _MEMORY.clear()
