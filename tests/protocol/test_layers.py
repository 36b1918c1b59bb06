"""Layering: protocol is sans-IO; the node never pulls in the TUI."""

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
        forbidden = [name for name in contract["forbidden_modules"] if name != "tui"]
        lines += [
            f"[importlinter:contract:{number}]",
            f"name = {contract['name']}",
            f"type = {contract['type']}",
            "source_modules =\n    " + "\n    ".join(contract["source_modules"]),
            "forbidden_modules =\n    " + "\n    ".join(forbidden),
        ]
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
