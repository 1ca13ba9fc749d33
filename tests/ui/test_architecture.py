"""The layering holds (docs/architecture.md, "State flow"): widgets never reach the storage,
keyring, chain client, ML or C2PA libraries themselves, and nothing below the widgets imports
Qt. Checked on every import statement, including the lazy ones inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

STUDIO = Path(__file__).resolve().parents[2] / "studio"
UI_FORBIDDEN = ("sqlite3", "keyring", "secretstorage", "web3", "eth_account", "torch",
                "diffusers", "transformers", "c2pa")
QT = ("PySide6", "shiboken6", "qasync", "PyQt5", "PyQt6")


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _violations(folder: str, banned: tuple[str, ...]) -> list[str]:
    bad = []
    for path in sorted((STUDIO / folder).rglob("*.py")):
        for line, name in _imports(path):
            if name.split(".")[0] in banned:
                bad.append(f"{path.relative_to(STUDIO.parent)}:{line} imports {name}")
    return bad


def test_widgets_never_import_storage_keyring_chain_ml_or_c2pa() -> None:
    assert _violations("ui", UI_FORBIDDEN) == []


@pytest.mark.parametrize("layer", ["core", "services", "viewmodels"])
def test_nothing_below_the_widgets_imports_qt(layer: str) -> None:
    assert list((STUDIO / layer).rglob("*.py")), layer
    assert _violations(layer, QT) == []


def test_services_and_viewmodels_point_downwards() -> None:
    """services never import view-models or widgets; view-models never import widgets."""
    bad = []
    for layer, above in (("services", ("studio.ui", "studio.viewmodels")),
                         ("viewmodels", ("studio.ui",)), ("core", ("studio.services",
                                                                   "studio.viewmodels",
                                                                   "studio.ui"))):
        for path in sorted((STUDIO / layer).rglob("*.py")):
            for line, name in _imports(path):
                if name.startswith(above):
                    bad.append(f"{path.relative_to(STUDIO.parent)}:{line} imports {name}")
    assert bad == []


def test_the_checker_sees_lazy_imports(tmp_path: Path) -> None:
    """The scan would catch an import hidden in a function (so a pass above means something)."""
    sample = tmp_path / "w.py"
    sample.write_text("def f():\n    import keyring\n    from web3 import Web3\n")
    assert [n for _, n in _imports(sample)] == ["keyring", "web3"]
