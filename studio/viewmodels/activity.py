"""The transactions the studio signed, reloaded whenever the app changes one."""

from __future__ import annotations

from typing import Any

from psygnal import Signal

from studio.services.studio import Studio


class ActivityModel:
    changed = Signal()  # records reloaded
    failed = Signal(str)

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self.records: list[Any] = []
        self.loaded = False
        self._loading = False
        self._again = False
        ev = studio.events
        for sig in (ev.transaction_updated, ev.asset_minted, ev.chain_profiles_changed):
            sig.connect(self.reload)

    def reload(self, *_: object) -> None:
        if self._loading:
            self._again = True
            return
        if self.studio.closed:
            return
        from studio.core.chain.txstore import TxStore

        self._loading = True
        store = TxStore(self.studio.library)
        (self.studio.runner.run(store.list, label="Loading activity")
         .success(self._loaded).failure(self._failed).start())

    def _loaded(self, records: list[Any]) -> None:
        self._loading = False
        self.records = records
        if self._again:  # something changed while reading: only the newer list is shown
            self._again = False
            self.reload()
            return
        self.loaded = True
        self.changed.emit()

    def _failed(self, exc: Exception) -> None:
        self._loading = False
        self.failed.emit(str(exc) or type(exc).__name__)

    def profiles(self) -> dict[str, tuple[str, int]]:
        return {p.id: (p.name, p.confirmations) for p in self.studio.profiles.all()}

    def my_addresses(self) -> set[str]:
        return {a.address for a in self.studio.wallet.list_accounts()}

    def quote(self, tx_id: int, *, cancel: bool):
        from studio.services.chain import quote_replacement

        return self.studio.runner.run_async(
            lambda: quote_replacement(self.studio, tx_id, cancel=cancel),
            label="Quoting the replacement")

    def send(self, quote: Any):
        from studio.services.chain import send_replacement

        return self.studio.runner.run_async(lambda: send_replacement(self.studio, quote),
                                            label="Sending the replacement")
