"""Peers measured against deepscope in bench/suite.py, one module each; each runs in its own process."""
