"""Flyte for Python: a request-based, decoupled automation engine."""

from __future__ import annotations

__version__ = "0.1.0"
