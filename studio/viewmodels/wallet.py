"""Wallet accounts and their balances on the active chain, kept current by app events."""

from __future__ import annotations

from psygnal import Signal

from studio.core.settings import WalletAccount
from studio.services.studio import Studio

NO_CHAIN_BALANCE = "balance: connect a chain"


class WalletModel:
    accounts_changed = Signal()
    balances_changed = Signal()

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self.balances: dict[str, int] = {}
        self.currency = "ETH"
        self._loading = False
        self._again = False
        ev = studio.events
        ev.wallet_changed.connect(self._on_accounts)
        for sig in (ev.balance_changed, ev.chain_started, ev.chain_switched,
                    ev.transaction_updated, ev.asset_minted):
            sig.connect(self.refresh_balances)
        ev.chain_stopped.connect(self._clear)

    def accounts(self) -> list[WalletAccount]:
        return self.studio.wallet.list_accounts()

    def active(self) -> WalletAccount | None:
        return self.studio.wallet.active_account()

    def balance_text(self, address: str) -> str:
        if address not in self.balances:
            return NO_CHAIN_BALANCE
        return f"{self.balances[address] / 1e18:,.4f} {self.currency}"

    def _on_accounts(self) -> None:
        self.accounts_changed.emit()
        self.refresh_balances()

    def _clear(self, *_: object) -> None:
        self.balances = {}
        self.balances_changed.emit()

    def refresh_balances(self, *_: object) -> None:
        """Read every account's balance on the active chain (never starts a node)."""
        if self._loading:
            self._again = True  # one more read after this one, for the latest change
            return
        if self.studio.closed:
            return
        addresses = [a.address for a in self.accounts()]
        profile = self.studio.profiles.active()
        if not addresses:
            return
        self._loading = True

        def done(balances: dict[str, int]) -> None:
            self._loading = False
            if self._again:  # something changed while reading: read again, show that
                self._again = False
                self.refresh_balances()
                return
            self.balances, self.currency = balances, profile.currency
            self.balances_changed.emit()

        def failed(_exc: Exception) -> None:
            self._loading = False
            self._again = False
            self._clear()

        (self.studio.runner.run_async(lambda: self.studio.balances(addresses, profile),
                                      label="Reading balances")
         .success(done).failure(failed).start())
