"""A tiny real diffusers pipeline (random weights), built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from studio.core.generation.demo import build_demo_pipeline, write_single_file

    root = tmp_path_factory.mktemp("tiny-model")
    pipe = build_demo_pipeline(root / "tiny-sd")
    write_single_file(pipe, root / "tiny-sd.safetensors")
    return root / "tiny-sd"


@pytest.fixture(scope="session")
def tiny_single_file(tiny_model: Path) -> Path:
    return tiny_model.parent / "tiny-sd.safetensors"


@pytest.fixture
def library(paths):
    from studio.core.library import Library

    lib = Library.open(paths)
    yield lib
    lib.close()


@pytest.fixture
def engine(library):
    from studio.core.generation.engine import GenerationEngine

    eng = GenerationEngine(library)
    yield eng
    eng.shutdown()


def make_request(entry, **kw):
    from studio.core.generation.request import GenerationRequest

    base = dict(model_id=entry.id, model_sha256=entry.sha256, model_name=entry.name,
                family=str(entry.family), prompt="a lighthouse at dusk", steps=3, width=64,
                height=64, seed=1234, guidance=5.0, scheduler="Euler")
    base.update(kw)
    return GenerationRequest(**base)


@pytest.fixture
def keyring_ok():
    import keyring

    from studio.core.wallet.vault import backend_problem

    problem = backend_problem(keyring.get_keyring())
    if problem:
        pytest.skip(f"no usable OS keyring ({problem}); run through scripts/with-keyring.sh")
