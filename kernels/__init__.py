"""Bundled hand-written .pimasm kernels (installed as pimisa.kernels)."""
