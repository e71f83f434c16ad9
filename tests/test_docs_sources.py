"""The shipped files stand on their own: no reference to the project's internal notes (which
users do not have); the facts and their public sources are in docs/ instead."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {"__pycache__", "build", "dist"}
# The internal notes' paths, spelled so that this file does not match itself.
INTERNAL = re.compile("|".join(["shared" + "/spec", "dram-timing" + r"\.md", "mx-formats" + r"\.md",
                                "DESIGN" + r"\.md"]))


def shipped_files() -> list[Path]:
    """Every text file of the repository outside hidden and build directories."""
    out = []
    for path in ROOT.rglob("*"):
        parts = path.relative_to(ROOT).parts
        if any(p.startswith(".") or p in SKIP_DIRS or p.endswith(".egg-info") for p in parts):
            continue
        if path.is_file() and path.suffix not in (".so", ".png", ".pimb", ".npy", ".npz"):
            out.append(path)
    return out


def test_no_file_cites_the_internal_notes():
    files = shipped_files()
    assert len(files) > 100 and ROOT / "docs" / "dram.md" in files
    hits = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if INTERNAL.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert hits == []


def test_the_pattern_catches_a_citation():
    assert INTERNAL.search("numbers from " + "shared" + "/spec/" + "dram-timing" + ".md")
    assert not INTERNAL.search("numbers from docs/formats.md and docs/dram.md")
