"""What every section of the window shares: paths, settings, the library."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property

from studio.core.library import Library
from studio.core.paths import StudioPaths
from studio.core.settings import Settings, SettingsStore

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    paths: StudioPaths
    settings_store: SettingsStore
    settings: Settings
    notices: list[str] = field(default_factory=list)

    @cached_property
    def library(self) -> Library:
        return Library.open(self.paths)

    def save_settings(self) -> None:
        try:
            self.settings_store.save(self.settings)
        except OSError as exc:
            log.error("could not save settings: %s", exc)
            raise

    def close(self) -> None:
        library = self.__dict__.pop("library", None)
        if library is not None:
            library.close()
