"""Backend selection and the import-time checks of the compiled core."""

from __future__ import annotations

import types

import pytest

from pimisa.emulator import active_backend, c_core_problem, cbackend, get_backend
from pimisa.errors import InputError, UsageError


def test_the_installed_core_loads() -> None:
    assert c_core_problem() is None
    assert get_backend("c").name == "c"


def test_names_and_environment(monkeypatch) -> None:
    monkeypatch.delenv("PIMISA_BACKEND", raising=False)
    assert active_backend() == "c"
    assert active_backend("numpy") == "numpy"
    monkeypatch.setenv("PIMISA_BACKEND", "numpy")
    assert active_backend() == "numpy"
    assert active_backend("c") == "c"
    monkeypatch.setenv("PIMISA_BACKEND", "fortran")
    with pytest.raises(UsageError, match="PIMISA_BACKEND: unknown backend 'fortran'"):
        active_backend()
    with pytest.raises(UsageError, match="--backend: unknown backend"):
        get_backend("gpu")


def test_missing_core_falls_back_under_auto_and_fails_clearly_under_c(monkeypatch) -> None:
    monkeypatch.setenv(cbackend.MODULE_ENV, "pimisa._no_such_core")
    monkeypatch.delenv("PIMISA_BACKEND", raising=False)
    assert "cannot import pimisa._no_such_core" in c_core_problem()
    assert active_backend() == "numpy"
    with pytest.raises(InputError, match="C emulator core is unavailable"):
        get_backend("c")


def _fake(op_info=None, hash_=None) -> types.SimpleNamespace:
    real = cbackend.load_core()
    lib = types.SimpleNamespace(**{n: getattr(real.lib, n) for n in dir(real.lib)})
    if op_info:
        lib.emu_op_info = op_info
    if hash_ is not None:
        lib.PIMISA_ISA_HASH = hash_
    return types.SimpleNamespace(ffi=real.ffi, lib=lib)


def test_stale_core_is_detected() -> None:
    assert cbackend._mismatch(_fake()) is None
    assert "another ISA" in cbackend._mismatch(_fake(hash_=1))
    real = cbackend.load_core().lib.emu_op_info
    wrong = _fake(op_info=lambda op: real(op) ^ (0x100 if op == 0x13 else 0))
    assert "opcode 0x13" in cbackend._mismatch(wrong)


def test_missing_compiler_is_a_clear_install_error(monkeypatch) -> None:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "cext" / "build_emu.py"
    spec = importlib.util.spec_from_file_location("build_emu_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setenv("CC", "no-such-compiler-xyz")
    with pytest.raises(SystemExit, match="no C compiler found .*'no-such-compiler-xyz'"):
        module._require_compiler()


def test_pimisa_backend_attribute(monkeypatch):
    import pimisa

    monkeypatch.setenv("PIMISA_BACKEND", "numpy")
    assert pimisa.backend == "numpy"
