"""Bundled presets of the JIT-Q analysis: models.toml (GPT-3 family) and gpus.toml."""
