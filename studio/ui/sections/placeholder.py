"""Sections that are not built yet say so plainly: no dead buttons."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.ui.context import AppContext


class PlaceholderSection(QWidget):
    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 32, 32, 32)
        heading = QLabel(title)
        heading.setObjectName("sectionHeading")
        body = QLabel(text)
        body.setObjectName("placeholderText")
        body.setWordWrap(True)
        body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(heading)
        layout.addWidget(body)
        layout.addStretch(1)


def generate(ctx: AppContext) -> QWidget:
    return PlaceholderSection(
        "Generate",
        "Image generation is not built yet. When it is, you will pick a model, type a prompt "
        "and press Ctrl+Enter; previews stream in and Esc cancels.",
    )


def library(ctx: AppContext) -> QWidget:
    count = ctx.library.count()
    return PlaceholderSection(
        "Library",
        f"The gallery is not built yet. Your library holds {count} asset(s); "
        "`studio library list` shows them from a terminal. Drag-and-drop import arrives "
        "with the gallery.",
    )


def wallet(ctx: AppContext) -> QWidget:
    return PlaceholderSection(
        "Wallet",
        "The wallet is not built yet. Accounts will live in your operating system's keyring, "
        "never in a plain file.",
    )


def activity(ctx: AppContext) -> QWidget:
    return PlaceholderSection(
        "Activity",
        "Minting is not built yet. Transactions, their confirmations, speed-up and cancel will "
        "be listed here.",
    )
