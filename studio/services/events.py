"""App-wide change events (psygnal, Qt-free). Services emit them after the app itself changed
something; every view-model listens, so no view needs a Refresh button for the app's own work.

Emitted on the main thread: :meth:`Studio.emit` hands each emission to the dispatcher (the GUI
posts it onto the Qt thread; the CLI calls it directly).
"""

from __future__ import annotations

from psygnal import Signal, SignalGroup


class StudioEvents(SignalGroup):
    asset_added = Signal(int)  # asset id (imported, generated, attested)
    asset_changed = Signal(int)
    asset_minted = Signal(int)
    balance_changed = Signal(str)  # address ("" for every account)
    wallet_changed = Signal()  # accounts added, removed, renamed or made active
    chain_started = Signal(str)  # profile id
    chain_stopped = Signal(str)
    chain_switched = Signal(str)  # the new active profile id
    chain_profiles_changed = Signal()
    transaction_updated = Signal(int)  # tx id (0: several or unknown)
    theme_changed = Signal(str)
