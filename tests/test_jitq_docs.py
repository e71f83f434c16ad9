"""docs/jitq.md and its figures are what `python -m pimisa.jitq.docs` generates today."""

from pimisa.jitq.docs import DOCS, FIGURES, PAGE, SIDE_FIGURES, main, stale
from pimisa.jitq.pim import PimTimer


def test_docs_are_fresh():
    assert stale(DOCS, PimTimer()) == [], "run: python -m pimisa.jitq.docs"


def test_check_flags_stale_files(tmp_path, capsys):
    (tmp_path / PAGE).write_text("# old\n")
    assert main(["--check", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"{tmp_path / name}: stale; run python -m pimisa.jitq.docs"
                   for name in (PAGE, *FIGURES, *SIDE_FIGURES)]
