"""The chain status the status bar shows: the active profile and whether its node runs."""

from __future__ import annotations

from psygnal import Signal

from studio.services.studio import Studio
from studio.viewmodels.chain_text import chain_status


class ChainStatusModel:
    changed = Signal(str, str)  # (text, tooltip)

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self.text, self.tooltip = self._compute()
        ev = studio.events
        for sig in (ev.chain_started, ev.chain_stopped, ev.chain_switched):
            sig.connect(self._update)
        ev.chain_profiles_changed.connect(self._update)

    def _compute(self) -> tuple[str, str]:
        return chain_status(self.studio)

    def _update(self, *_: object) -> None:
        text, tip = self._compute()
        if (text, tip) != (self.text, self.tooltip):
            self.text, self.tooltip = text, tip
            self.changed.emit(text, tip)


class ChainsModel:
    """The chain profiles for Settings → Chains: list, add, test, switch, remove."""

    changed = Signal()

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        ev = studio.events
        ev.chain_profiles_changed.connect(self.changed.emit)
        ev.chain_switched.connect(lambda _id: self.changed.emit())

    def profiles(self) -> list:
        return self.studio.profiles.all()

    def active_id(self) -> str:
        return self.studio.profiles.active().id

    def presets(self) -> list:
        from studio.core.chain.profiles import PRESETS

        return list(PRESETS)

    def add(self, **fields):
        return self.studio.add_chain(**fields)

    def use(self, profile_id: str):
        return self.studio.switch_chain(profile_id)

    def remove(self, profile_id: str) -> None:
        self.studio.remove_chain(profile_id)

    def test(self, profile_id: str):
        """An operation reporting chain id, block, latency and client (starts the Sandbox when
        it is the one tested)."""
        return self.studio.runner.run_async(lambda: self.studio.test_chain(profile_id),
                                            label="Testing the chain")
