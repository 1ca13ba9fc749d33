"""Versions and licences of the third-party software the studio ships with (About dialog)."""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass

# Distributions bundled with the app whose licences the About dialog lists.
BUNDLED = [
    "PySide6-Essentials", "shiboken6", "qasync", "torch", "diffusers", "transformers",
    "accelerate", "safetensors", "tokenizers", "huggingface-hub", "numpy", "Pillow",
    "c2pa-python", "cryptography", "web3", "eth-account", "keyring", "SecretStorage",
    "platformdirs",
]


@dataclass(frozen=True)
class Component:
    name: str
    version: str
    license: str


# Data shipped under resources/ with its own licence (CC BY 4.0 asks for attribution).
DATA = [Component("C2PA Trust List and TSA Trust List (C2PA, conformance-public; "
                  "resources/trust)", "2026", "CC-BY-4.0")]


def _license_of(meta: importlib.metadata.PackageMetadata) -> str:
    expression = meta.get("License-Expression")
    if expression:
        return expression
    classifiers = []
    for c in meta.get_all("Classifier") or []:
        leaf = c.rsplit("::", 1)[-1].strip()
        if c.startswith("License ::") and leaf != "OSI Approved":
            classifiers.append(leaf)
    if classifiers:
        return ", ".join(dict.fromkeys(classifiers))
    text = (meta.get("License") or "").strip()
    # Some packages put the whole licence text in this field: keep its first line.
    return text.splitlines()[0][:60] if text else "see package"


def bundled_components(names: list[str] | None = None) -> list[Component]:
    out = []
    for name in BUNDLED if names is None else names:
        try:
            meta = importlib.metadata.metadata(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        out.append(Component(meta["Name"], meta["Version"], _license_of(meta)))
    return out + (DATA if names is None else [])
