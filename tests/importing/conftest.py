from __future__ import annotations

from collections.abc import Iterator

import pytest

from studio.core.importing import ImportService
from studio.core.library import Library


@pytest.fixture
def lib(paths) -> Iterator[Library]:
    with Library.open(paths) as library:
        yield library


@pytest.fixture
def service(lib, paths) -> ImportService:
    return ImportService.for_paths(lib, paths.cache_dir)
