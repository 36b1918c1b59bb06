"""Layering: protocol is sans-IO; the node never pulls in the TUI; networking never the node;
no import cycle anywhere."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

IMPORT_ALL = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
skip = set(sys.argv[2:])
imported, failed = [package.__name__], {}
for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    if info.name in skip:
        continue
    try:
        importlib.import_module(info.name)
    except Exception as exc:  # a module another change is still writing
        failed[info.name] = repr(exc)
    else:
        imported.append(info.name)
print(json.dumps({"imported": imported, "failed": failed, "modules": sorted(sys.modules)}))
"""

# The modules of the foundation: these must import, whatever else is in flux.
FOUNDATION = {
    "protocol": {
        "protocol.codec",
        "protocol.errors",
        "protocol.event",
        "protocol.identity",
        "protocol.limits",
        "protocol.kinds",
        "protocol.kinds.circles",
        "protocol.kinds.core",
        "protocol.kinds.fields",
        "protocol.kinds.registry",
    },
    "peernode": {
        "peernode.home",
        "peernode.ports",
        "peernode.stream",
        "peernode.storage",
        "peernode.storage.store",
        "peernode.storage.async_store",
        "peernode.verifier",
        "peernode.node",
        "peernode.importer",
        "peernode.views",
        "peernode.cli",
        "peernode.cli.app",
        "peernode.cli.commands",
        "peernode.cli.content",
        "peernode.cli.identity",
    },
}


def import_everything(package: str, *skip: str) -> tuple[list[str], set[str]]:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL, package, *skip],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    report = json.loads(result.stdout)
    imported = set(report["imported"])
    assert FOUNDATION[package] <= imported, report["failed"]
    return sorted(imported), set(report["modules"])


def loaded(modules: set[str], name: str) -> bool:
    return any(module == name or module.startswith(name + ".") for module in modules)


def test_protocol_imports_no_io() -> None:
    _, modules = import_everything("protocol")

    for forbidden in ("asyncio", "aiohttp", "zeroconf", "sqlite3", "textual", "socket"):
        assert not loaded(modules, forbidden), f"protocol pulls in {forbidden}"
    assert not loaded(modules, "peernode")
    assert not loaded(modules, "tui")


SURFACE = """
import json, sys
import protocol
light = sorted(name for name in sys.modules if name.partition(".")[0] == "protocol")
from protocol import *
missing = [name for name in protocol.__all__ if not hasattr(protocol, name)]
print(json.dumps({"light": light, "missing": missing}))
"""


def test_the_package_names_its_surface_and_loads_only_its_errors() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SURFACE],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    report = json.loads(result.stdout)

    assert report == {"light": ["protocol", "protocol.errors"], "missing": []}


def test_node_never_imports_the_tui() -> None:
    _, modules = import_everything("peernode", "peernode.cli.tui_launch", "peernode.__main__")

    assert not loaded(modules, "textual")
    assert not loaded(modules, "tui")


IMPORT_ONE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(sys.modules)))
"""


def modules_after_importing(module: str) -> set[str]:
    """sys.modules of a fresh interpreter that imported only `module`."""
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ONE, module],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    return set(json.loads(result.stdout))


@pytest.mark.parametrize(
    "module", ["peernode.net.network", "peernode.net.control", "peernode.circles.service"]
)
def test_networking_and_circles_need_no_node(module: str) -> None:
    """They reach the node through peernode.ports: the facade is never loaded with them."""
    modules = modules_after_importing(module)

    assert module in modules
    assert "peernode.node" not in modules


def test_storage_loads_nothing_above_it() -> None:
    modules = modules_after_importing("peernode.storage")

    for above in ("peernode.node", "peernode.net", "peernode.circles", "aiohttp", "zeroconf"):
        assert not loaded(modules, above), f"storage pulls in {above}"


def test_import_contracts(tmp_path: Path) -> None:
    """The contracts of pyproject.toml, checked by import-linter on protocol and peernode.

    The TUI package is left out (its own tests cover it), and external packages
    are enabled, which import-linter requires for forbidding stdlib modules.
    """
    linter = Path(sys.executable).with_name("lint-imports")
    if not linter.exists():
        pytest.skip("import-linter is not installed")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    lines = [
        "[importlinter]",
        "root_packages =\n    protocol\n    peernode",
        "include_external_packages = True",
    ]
    for number, contract in enumerate(config["contracts"]):
        lines.append(f"[importlinter:contract:{number}]")
        for key, value in contract.items():
            if key == "ignore_imports":  # they name TUI modules, left out here
                continue
            if key == "forbidden_modules":
                value = [name for name in value if name != "tui"]
            if isinstance(value, list):
                lines.append(f"{key} =\n    " + "\n    ".join(value))
            else:
                lines.append(f"{key} = {value}")
    ini = tmp_path / "importlinter.ini"
    ini.write_text("\n".join(lines) + "\n")

    result = subprocess.run(
        [str(linter), "--config", str(ini), "--no-cache", "--no-logo"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(config['contracts'])} kept, 0 broken" in result.stdout


def import_cycles(*packages: str) -> list[list[str]]:
    """Every group of modules that import each other round in a circle (Tarjan's strongly
    connected components of the import graph; imports under TYPE_CHECKING count too)."""
    import grimp  # import-linter's graph builder: a test dependency already

    graph = grimp.build_graph(*packages)
    edges = {m: graph.find_modules_directly_imported_by(m) & graph.modules for m in graph.modules}
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        for imported in edges[module]:
            if imported not in order:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], order[imported])
        if low[module] == order[module]:
            group = stack[stack.index(module) :]
            del stack[stack.index(module) :]
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in order:
            visit(module)
    return cycles


def test_no_import_cycle_anywhere() -> None:
    assert import_cycles("protocol", "peernode", "tui") == []


def test_the_cycle_finder_finds_a_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "roundabout"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from roundabout import b\n")
    (package / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from roundabout import a\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("roundabout") == [["roundabout.a", "roundabout.b"]]
