#!/usr/bin/env bash
# Build the emulator core with AddressSanitizer + UndefinedBehaviorSanitizer and run the
# emulator's differential, fault, semantics, definition-file and 16-bit oracle tests against it
# (both backends compared command by command at both lane widths, garbage streams included).
# Any sanitizer report fails the run.
#
# Usage: scripts/asan_emu.sh [extra pytest args]     (HYPOTHESIS_PROFILE=fuzz for a deep run)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT

"$PYTHON" - "$build" <<'PY'
import sys
sys.path.insert(0, "cext")
from build_emu import make_builder

flags = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer",
         "-g", "-O1")
make_builder("_emucore_asan", flags, absolute=True).compile(tmpdir=sys.argv[1], verbose=False)
PY

export LD_PRELOAD
LD_PRELOAD="$(${CC:-gcc} -print-file-name=libasan.so)"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export PYTHONPATH="$build${PYTHONPATH:+:$PYTHONPATH}"
export PIMISA_EMU_MODULE=_emucore_asan

"$PYTHON" -c "from pimisa.emulator.cbackend import load_core; \
assert load_core().__name__ == '_emucore_asan'; print('sanitized core loaded')"
"$PYTHON" -m pytest -p no:cacheprovider tests/test_emu_diff.py tests/test_emu_faults.py \
    tests/test_emu_semantics.py tests/test_emu_core_defs.py tests/test_emu_lanes16.py "$@"
