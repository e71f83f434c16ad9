"""Bundled JIT-Q scenarios: default.toml (the analysis' standing assumptions), paper.toml."""
