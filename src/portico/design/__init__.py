"""The architect: requirements -> decisions, cost model, capacity, controls and artifacts
(`portico design`), and checks of a running system against targets (`portico doctor`)."""

from portico.design.artifacts import render_all, write_artifacts
from portico.design.catalog import Catalog, CatalogModel, load_catalog
from portico.design.decision import Decision
from portico.design.plan import Design, design
from portico.design.requirements import Requirements, load_requirements, parse_requirements

__all__ = [
    "Catalog",
    "CatalogModel",
    "Decision",
    "Design",
    "Requirements",
    "design",
    "load_catalog",
    "load_requirements",
    "parse_requirements",
    "render_all",
    "write_artifacts",
]
