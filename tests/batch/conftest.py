"""Batch tests: the tiny real pipeline, a real keyring (signing), real SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from studio.core.generation.demo import build_demo_pipeline

    root = tmp_path_factory.mktemp("tiny-model")
    build_demo_pipeline(root / "tiny-sd")
    return root / "tiny-sd"


@pytest.fixture
def keyring_ok():
    import keyring

    from studio.core.wallet.vault import backend_problem

    problem = backend_problem(keyring.get_keyring())
    if problem:
        pytest.skip(f"no usable OS keyring ({problem}); run through scripts/with-keyring.sh")


@pytest.fixture
def library(paths):
    from studio.core.library import Library

    lib = Library.open(paths)
    yield lib
    lib.close()


@pytest.fixture
def settings(paths):
    from studio.core.settings import SettingsStore

    return SettingsStore(paths.settings_file).load().settings


@pytest.fixture
def entry(library, tiny_model):
    from studio.core.generation.registry import ModelRegistry

    return ModelRegistry(library).add(tiny_model, name="tiny")


def requests_for(entry, settings, prompts=("a red fox", "a blue boat"), seeds=range(1, 7),
                 steps: int = 2):
    from studio.core.batch import plan

    return plan.matrix([entry], list(prompts), list(seeds),
                       plan.Options(steps=steps, size=(64, 64), scheduler="Euler"),
                       settings.generation)


def pixels(path) -> bytes:
    from PIL import Image

    with Image.open(path) as img:
        return img.convert("RGB").tobytes()
