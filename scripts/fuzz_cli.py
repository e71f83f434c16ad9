"""Adversarial campaign against the pimisa command line: every outcome classified.

Each case is a sub-command with generated or mutated inputs (assembly sources, .pimb bytes,
header and metadata, .npy files, presets, CSV traces, output paths), run in a subprocess in a
fresh directory under a time and an address-space limit. Outcomes:

  ok, clean       exit 0; or exit 1/2 with a short message and no traceback
  traceback       a Python traceback on stderr
  crash           killed by a signal
  hang            over the time limit
  memory          ran out of memory (an allocation nothing checked first)
  wrong-exit      an exit status other than 0, 1, 2
  leftover        a failed command left a file behind (partial output, temporary file)
  destroyed       an input file, or a special file given as output, was changed or replaced

Usage: python scripts/fuzz_cli.py [--cases N] [--seed S] [--timeout S] [--show CLASS]
Prints the count of each class; exit 1 when any bad class occurred.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import stat
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BAD = ("traceback", "crash", "hang", "memory", "wrong-exit", "leftover", "destroyed")
MEMORY_LIMIT = 3 << 30
KERNEL = "mx6_row"


@dataclass
class Case:
    """One command line and the files it needs (name -> bytes, or a callable making it)."""

    name: str
    argv: list[str]
    files: dict[str, bytes | Callable[[Path], None]] = field(default_factory=dict)
    outputs: tuple[str, ...] = ()  # names a successful run may create


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _snapshot(root: Path) -> dict[str, tuple]:
    out = {}
    for p in root.iterdir():
        st = os.lstat(p)
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else ""
        out[p.name] = (stat.S_IFMT(st.st_mode), digest)
    return out


def run_case(case: Case, timeout: float) -> tuple[str, str]:
    """(class, detail) of one case."""
    with tempfile.TemporaryDirectory(prefix="pimisa-fuzz-") as tmp:
        root = Path(tmp)
        for name, content in case.files.items():
            if callable(content):
                content(root / name)
            else:
                (root / name).write_bytes(content)
        before = _snapshot(root)
        try:
            proc = subprocess.run([sys.executable, "-m", "pimisa.cli", *case.argv], cwd=root,
                                  capture_output=True, timeout=timeout, preexec_fn=_limit,
                                  stdin=subprocess.DEVNULL, env={**os.environ, "COLUMNS": "100"})
        except subprocess.TimeoutExpired:
            return "hang", f"over {timeout} s"
        err = proc.stderr.decode("utf-8", "replace")
        after = _snapshot(root)
        changed = [n for n, v in before.items() if after.get(n) != v]
        if changed:
            return "destroyed", ", ".join(changed)
        if proc.returncode < 0:
            return "crash", f"signal {-proc.returncode}"
        if "Traceback (most recent call last)" in err:
            return "traceback", err.strip().splitlines()[-1][:200]
        if "MemoryError" in err or "out of memory" in err:
            return "memory", err.strip()[:200]
        if proc.returncode not in (0, 1, 2):
            return "wrong-exit", f"exit {proc.returncode}: {err[:200]}"
        new = sorted(set(after) - set(before))
        if proc.returncode != 0 and new:
            return "leftover", ", ".join(new)
        if proc.returncode == 0 and set(new) - set(case.outputs):
            return "leftover", ", ".join(sorted(set(new) - set(case.outputs)))
        return ("ok" if proc.returncode == 0 else "clean"), err.strip()[:200]


# --- input generators ----------------------------------------------------------------------


def _bundled_source() -> bytes:
    from pimisa.kernels import resolve

    return Path(resolve("example_gemv")).read_bytes()


def _pimb() -> bytes:
    from pimisa.kernels import load

    return load(KERNEL, None).to_bytes()


def _npy(array: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


def _mutate(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(5)
        if not data:
            break
        i = rng.randrange(len(data))
        if op == 0:
            data[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            del data[i:i + rng.randint(1, 64)]
        elif op == 2:
            data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif op == 3:
            data = data[:i]
        else:
            j = rng.randrange(len(data))
            data[i:i] = data[j:j + rng.randint(1, 200)]
    return bytes(data)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _dir(path: Path) -> None:
    path.mkdir()


def _dev(target: str) -> Callable[[Path], None]:
    return lambda path: os.symlink(target, path)


SPECIALS: list[Callable[[Path], None]] = [_fifo, _dir, _dev("/dev/zero"), _dev("/dev/urandom")]

HOSTILE_TOML = [
    b"[geometry]\nchannels = 1000000000\n",
    b"[geometry]\nrows = 99999999999999999999999999\n",
    b"[timing]\ntCK_ns = 1e308\ntRC = 9223372036854775807\n",
    b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "name = 'x'\n".encode("utf-16"),
    b"\xff\xfe\x00bad",
    b"[geometry\n",
]


def _meta_mutations(rng: random.Random, image: bytes) -> bytes:
    from pimisa.program import HEADER

    fields = list(HEADER.unpack_from(image))
    meta_len = fields[5]
    start = HEADER.size + meta_len + (-(HEADER.size + meta_len) % 16)
    doc = json.loads(image[HEADER.size:HEADER.size + meta_len])
    junk = rng.choice([None, [], {}, "x", -1, 1 << 70, 1.5, True, [[[[]]]], {"a": {"b": 1}}])
    target = rng.choice(["kernel", "files", "name", "regions", "region", "row", "rows", "kind",
                         "params", "arch"])
    kernel = doc["kernel"]
    if target in ("kernel", "files"):
        doc[target] = junk
    elif target in ("name", "regions", "params", "arch"):
        kernel[target] = junk
    elif target == "region":
        kernel["regions"][0] = junk
    else:
        kernel["regions"][0][target] = junk
    meta = json.dumps(doc).encode()
    fields[5] = len(meta)
    pad = b"\0" * (-(HEADER.size + len(meta)) % 16)
    return HEADER.pack(*fields) + meta + pad + image[start:]


def generate(rng: random.Random) -> Case:
    """One random case."""
    kind = rng.choice(["asm", "asm-include", "pimb", "pimb-meta", "npy", "preset", "trace",
                       "output", "special-input", "args"])
    if kind == "asm":
        src = _mutate(rng, _bundled_source())
        return Case(kind, ["asm", "k.pimasm", "-o", "k.pimb"], {"k.pimasm": src}, ("k.pimb",))
    if kind == "asm-include":
        target = rng.choice(["inc", "inc.toml"])
        directive = ".include" if target == "inc" else ".arch"
        src = f'.kernel k\n{directive} "{target}"\nnop\n'.encode()
        return Case(kind, ["asm", "k.pimasm", "--listing"],
                    {"k.pimasm": src, target: rng.choice(SPECIALS)})
    if kind == "pimb":
        sub = rng.choice([["disasm", "k.pimb"], ["time", "k.pimb"], ["run", "k.pimb"]])
        return Case(kind, sub, {"k.pimb": _mutate(rng, _pimb())})
    if kind == "pimb-meta":
        image = _meta_mutations(rng, _pimb())
        return Case(kind, rng.choice([["disasm", "k.pimb"], ["time", "k.pimb"]]),
                    {"k.pimb": image})
    if kind == "npy":
        choices = [
            np.zeros((16, 16), np.float64), np.zeros((16, 16), ">f4"),
            np.asfortranarray(np.ones((16, 32), np.float32)), np.zeros((0, 16), np.float32),
            np.zeros((3,), np.float32), np.array([["a"]]), np.array([{"x": 1}], dtype=object),
            np.full((16, 16), np.nan, np.float32), np.zeros((16, 16), np.int64)]
        data = _npy(rng.choice(choices))
        if rng.random() < 0.5:
            data = _mutate(rng, data)
        if rng.random() < 0.2:
            data = data.replace(b"(16, 16)", b"(65536, 65536)")
        argv = rng.choice([
            ["quantize", "--format", "mx6", "--direction", "row", "--in", "w.npy", "--out",
             "q.npz"],
            ["run", KERNEL, "--in", "W=w.npy", "--out", "q.npz"]])
        return Case(kind, argv, {"w.npy": data}, ("q.npz",))
    if kind == "preset":
        base = rng.choice(HOSTILE_TOML)
        data = _mutate(rng, base) if rng.random() < 0.3 else base
        argv = rng.choice([["arch", "--show", "p.toml"], ["asm", KERNEL, "--arch", "p.toml",
                                                            "--listing"],
                           ["jitq", "--model", "p.toml"], ["time", KERNEL, "--arch", "p.toml"]])
        return Case(kind, argv, {"p.toml": data})
    if kind == "trace":
        rows = ["# pimisa trace", "cycle,channel,bank,command,row,col"]
        for _ in range(rng.randint(0, 6)):
            rows.append(",".join(rng.choice(["0", "-1", "1", "99999999999999999999999", "x",
                                             "ACT", "RD", "1e9", ""]) for _ in range(6)))
        return Case(kind, ["check-trace", "t.csv"], {"t.csv": "\n".join(rows).encode()})
    if kind == "output":
        target, maker = rng.choice([("out", _dir), ("f", _fifo), ("nodir/x", None),
                                    ("sub/", None), ("k.pimasm", None)])
        files: dict[str, bytes | Callable[[Path], None]] = {"k.pimasm": b".kernel k\nnop\n"}
        if maker is not None:
            files[target] = maker
        return Case(kind, ["asm", "k.pimasm", "-o", target], files)
    if kind == "special-input":
        argv = rng.choice([["asm", "s", "--listing"], ["disasm", "s"], ["check-trace", "s"],
                           ["arch", "--show", "s.toml"],
                           ["run", KERNEL, "--in", "W=s"]])
        name = "s.toml" if "s.toml" in argv else "s"
        return Case(kind, argv, {name: rng.choice(SPECIALS)})
    argv = rng.choice([
        ["quantize", "--format", "mx6", "--direction", "row", "--random", "16x16", "--seed",
         str(rng.choice([-1, 1 << 70, 0]))],
        ["quantize", "--format", "mx6", "--direction", "row", "--random",
         rng.choice(["0x0", "99999999x99999999", "4x", "-4x4"])],
        ["time", KERNEL, "--tiles", str(rng.choice([-1, 0, 1 << 62]))],
        ["isa", "--max-memory", rng.choice(["0", "-1", "1Q", "200%"])],
        ["fuzz", KERNEL, "--golden", "mx6", "--direction", "row", "--max-examples",
         str(rng.choice([-5, 0]))],
        ["jitq", "--batch", rng.choice(["0", "-3", "1e400"])],
    ])
    return Case(kind, argv)


def campaign(cases: int, seed: int, timeout: float,
             progress: Callable[[int, Case, str], None] | None = None
             ) -> tuple[Counter, dict[str, list[tuple[Case, str]]]]:
    """Run `cases` random cases; the count per class and the bad cases by class."""
    rng = random.Random(seed)
    counts: Counter = Counter()
    bad: dict[str, list[tuple[Case, str]]] = {}
    for i in range(cases):
        case = generate(rng)
        outcome, detail = run_case(case, timeout)
        counts[outcome] += 1
        if outcome in BAD:
            bad.setdefault(outcome, []).append((case, detail))
        if progress is not None:
            progress(i, case, outcome)
    return counts, bad


def main(argv: list[str] | None = None) -> int:
    """Run a campaign and print the counts (and the bad cases)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=300, help="cases to run (default 300)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per case")
    parser.add_argument("--show", type=int, default=5, help="bad cases shown per class")
    args = parser.parse_args(argv)
    counts, bad = campaign(args.cases, args.seed, args.timeout,
                           lambda i, c, o: print(f"\r{i + 1}/{args.cases} {c.name:14} {o:10}",
                                                 end="", file=sys.stderr, flush=True))
    print(file=sys.stderr)
    for outcome in ("ok", "clean", *BAD):
        print(f"{outcome:11} {counts.get(outcome, 0)}")
    for outcome, items in bad.items():
        for case, detail in items[:args.show]:
            print(f"{outcome}: pimisa {' '.join(case.argv)} [{case.name}]: {detail}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
