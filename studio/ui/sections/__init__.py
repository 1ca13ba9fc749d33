"""The window's sections. A section is built the first time it is shown.

``SECTIONS`` lists them in sidebar order; ``factory`` is ``"module:callable"`` taking the
:class:`~studio.ui.context.AppContext` and returning a QWidget, imported lazily so heavy
sections cost nothing at start.
"""

from __future__ import annotations

from typing import NamedTuple


class SectionSpec(NamedTuple):
    """One sidebar entry (a NamedTuple, not a frozen dataclass: defined before the first
    paint, where each frozen dataclass costs ~1 ms)."""

    key: str
    title: str
    factory: str
    blurb: str = ""


SECTIONS: list[SectionSpec] = [
    SectionSpec("generate", "Generate", "studio.ui.sections.generate_section:build",
                "Create images on your own GPU"),
    SectionSpec("library", "Library", "studio.ui.sections.library_section:build",
                "Everything you made or imported"),
    SectionSpec("wallet", "Wallet", "studio.ui.sections.wallet_section:build",
                "Accounts kept in your OS keyring"),
    SectionSpec("activity", "Activity", "studio.ui.sections.activity_section:build",
                "Transactions and mints"),
    SectionSpec("batch", "Batch", "studio.ui.sections.batch_section:build",
                "Many images, here or on a Ray cluster"),
    SectionSpec("settings", "Settings", "studio.ui.sections.settings_section:build",
                "Appearance, folders, defaults"),
]
