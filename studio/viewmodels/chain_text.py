"""The status bar's chain field as text. Apart from :mod:`studio.viewmodels.chain` (psygnal) so
the window can show it before its first paint, when no view-model exists yet."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.services.studio import Studio


def chain_status(studio: Studio) -> tuple[str, str]:
    """``(text, tooltip)`` for the active chain profile and whether its node runs."""
    from studio.core.chain.profiles import SANDBOX_ID

    profile = studio.profiles.active()
    if profile.id == SANDBOX_ID:
        running = studio.sandbox_running()
        state = "running" if running else "not started"
        tip = ("The local test chain is running" if running else
               "The local test chain starts on first use (fund, mint)")
        return f"Chain: {profile.name} ({state})", tip
    return (f"Chain: {profile.name} (chain {profile.chain_id})",
            f"{profile.name}: {profile.rpc_url}")
