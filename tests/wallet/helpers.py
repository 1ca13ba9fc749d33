"""Known vectors, the FAKE in-memory keyring backend and tool lookup shared by wallet tests."""

from __future__ import annotations

from pathlib import Path

from keyring.backend import KeyringBackend

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
ANVIL = [
    ("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
     "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"),
    ("0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
     "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"),
    ("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
     "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"),
]
REPO = Path(__file__).resolve().parents[2]


class FakeMemoryKeyring(KeyringBackend):
    """FAKE keyring backend (a dict), for error-path unit tests only. ``fail_with`` makes every
    call raise that exception, as a locked keyring or a dismissed prompt would."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.fail_with: Exception | None = None

    def _check(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with

    def get_password(self, service: str, username: str) -> str | None:
        self._check()
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._check()
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        self._check()
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("no such entry")


def cast_path() -> Path | None:
    for candidate in (REPO / "contracts" / "node_modules" / ".bin" / "cast",):
        if candidate.exists():
            return candidate
    return None
