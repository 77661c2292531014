"""The architect: requirements -> decisions, cost model, capacity, controls and artifacts
(`portico design`), and checks of a running system against targets (`portico doctor`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portico.lazy import lazy_exports

if TYPE_CHECKING:
    from portico.design.artifacts import render_all, write_artifacts
    from portico.design.catalog import Catalog, CatalogModel, load_catalog
    from portico.design.decision import Decision
    from portico.design.measurements import Measurements, load_measurements
    from portico.design.plan import Design, design
    from portico.design.requirements import Requirements, load_requirements, parse_requirements

_HOMES = {
    "Catalog": "catalog",
    "CatalogModel": "catalog",
    "Decision": "decision",
    "Design": "plan",
    "Measurements": "measurements",
    "load_measurements": "measurements",
    "Requirements": "requirements",
    "design": "plan",
    "load_catalog": "catalog",
    "load_requirements": "requirements",
    "parse_requirements": "requirements",
    "render_all": "artifacts",
    "write_artifacts": "artifacts",
}
__all__ = [
    "Catalog",
    "CatalogModel",
    "Decision",
    "Design",
    "Measurements",
    "Requirements",
    "design",
    "load_catalog",
    "load_measurements",
    "load_requirements",
    "parse_requirements",
    "render_all",
    "write_artifacts",
]
__getattr__ = lazy_exports(__name__, _HOMES)
