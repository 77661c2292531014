"""Lazy package exports: a package's public names load on first use.

Feature packages export their main classes from ``__init__``; importing them eagerly would
make ``portico.config`` (which imports each package's ``settings`` module) load every
feature's heavy dependencies and invite import cycles. ``lazy_exports`` keeps the public
names while loading a submodule only when one of its names is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``package.<homes[name]>`` when ``name`` is used."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{home}"), name)

    return __getattr__
