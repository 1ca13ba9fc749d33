"""Chain profiles: the built-in Sandbox, presets for public chains, and the user's own.

Profiles live in ``Settings.chain``. Everything in an RPC URL after the host (a path such as
Infura's ``/v3/<key>``, a query, userinfo) is a secret: the full URL goes to the OS keyring
(service ``provenance-studio``) and settings keep the redacted ``scheme://host/***``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import NamedTuple, Protocol
from urllib.parse import urlsplit

from studio.core.redact import redact_url, url_has_secret
from studio.core.settings import ChainProfile, Settings

__all__ = ["redact_url", "url_has_secret"]  # re-exported: callers import them from here

SANDBOX_ID = "sandbox"
SANDBOX_CHAIN_ID = 31337
KEYRING_SERVICE = "provenance-studio"


class ProfileError(Exception):
    """A profile cannot be added, found or used; the message is meant for the user."""


class ChainPreset(NamedTuple):
    """A well-known chain offered when adding a profile. (Not a frozen dataclass: this
    module loads before the window's first paint, for its status bar.)"""

    key: str
    name: str
    chain_id: int
    currency: str
    explorer_url: str
    confirmations: int


PRESETS: list[ChainPreset] = [
    ChainPreset("ethereum", "Ethereum", 1, "ETH", "https://etherscan.io", 3),
    ChainPreset("sepolia", "Sepolia", 11155111, "ETH", "https://sepolia.etherscan.io", 2),
    ChainPreset("base", "Base", 8453, "ETH", "https://basescan.org", 2),
    ChainPreset("base-sepolia", "Base Sepolia", 84532, "ETH", "https://sepolia.basescan.org", 2),
    ChainPreset("optimism", "Optimism", 10, "ETH", "https://optimistic.etherscan.io", 2),
    ChainPreset("arbitrum", "Arbitrum", 42161, "ETH", "https://arbiscan.io", 2),
    # Polygon PoS has seen reorgs tens of blocks deep: wait longer.
    ChainPreset("polygon", "Polygon", 137, "POL", "https://polygonscan.com", 32),
]


def preset(key: str) -> ChainPreset:
    for p in PRESETS:
        if p.key == key:
            return p
    raise ProfileError(f"Unknown preset {key!r}; choose one of: "
                       + ", ".join(p.key for p in PRESETS))


def sandbox_profile() -> ChainProfile:
    # The URL is filled in when the sandbox node starts (its port is chosen then).
    return ChainProfile(id=SANDBOX_ID, name="Sandbox", rpc_url="", chain_id=SANDBOX_CHAIN_ID,
                        confirmations=1, explorer_url="", currency="ETH")


# -- secret URLs (the redaction rules are shared: studio.core.redact) ----------------------


def validate_rpc_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProfileError(f"{redact_url(url) or 'The RPC URL'} is not an http(s) URL "
                           "(for example https://sepolia.example.org/v3/KEY)")
    return url


class SecretStore(Protocol):
    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str) -> None: ...
    def delete(self, key: str) -> None: ...


class KeyringSecrets:
    """The one secret store (OS keyring, no plaintext fallback), worded for chain profiles."""

    def __init__(self, service: str | None = None) -> None:
        from studio.core.secrets import SecretStore

        self.store = SecretStore(service=service)
        self.service = self.store.service

    def get(self, key: str) -> str | None:
        from studio.core.secrets import SecretStoreError

        try:
            return self.store.get(key)
        except SecretStoreError as exc:
            raise ProfileError(f"The OS keyring cannot be read: {exc}") from exc

    def set(self, key: str, value: str) -> None:
        from studio.core.secrets import SecretStoreError

        try:
            self.store.set(key, value)
        except SecretStoreError as exc:
            raise ProfileError(
                f"The OS keyring is not available ({exc}); an RPC URL with an API key is "
                "never written to a plain file, so the profile was not saved.") from exc

    def delete(self, key: str) -> None:
        from studio.core.secrets import SecretStoreError

        try:
            self.store.delete(key)
        except SecretStoreError as exc:
            raise ProfileError(f"The OS keyring cannot be changed: {exc}") from exc


def _secret_key(profile_id: str) -> str:
    return f"chain-rpc:{profile_id}"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "chain"


class ChainProfiles:
    """Reads and edits the profiles in ``settings``; the caller saves the settings."""

    def __init__(self, settings: Settings, secrets: SecretStore | None = None) -> None:
        self.settings = settings
        self.secrets = secrets or KeyringSecrets()

    def all(self) -> list[ChainProfile]:
        user = [p for p in self.settings.chain.profiles if p.id != SANDBOX_ID]
        return [sandbox_profile(), *user]

    def get(self, profile_id: str) -> ChainProfile:
        for p in self.all():
            if p.id == profile_id:
                return p
        raise ProfileError(f"No chain profile {profile_id!r}; `studio chain list` shows them")

    def active(self) -> ChainProfile:
        try:
            return self.get(self.settings.chain.active_profile)
        except ProfileError:
            return sandbox_profile()

    def use(self, profile_id: str) -> ChainProfile:
        profile = self.get(profile_id)
        self.settings.chain.active_profile = profile.id
        return profile

    def add(self, *, name: str, rpc_url: str, chain_id: int, confirmations: int = 1,
            explorer_url: str = "", currency: str = "ETH") -> ChainProfile:
        name = name.strip()
        if not name:
            raise ProfileError("A chain profile needs a name")
        if chain_id <= 0:
            raise ProfileError(f"The chain id must be a positive integer, not {chain_id}")
        if chain_id == SANDBOX_CHAIN_ID and _slug(name) == SANDBOX_ID:
            raise ProfileError("The Sandbox profile is built in")
        if confirmations < 1:
            raise ProfileError("Confirmations must be at least 1")
        url = validate_rpc_url(rpc_url)
        if explorer_url:
            explorer_url = explorer_url.strip().rstrip("/")
            if urlsplit(explorer_url).scheme not in ("http", "https"):
                raise ProfileError(f"The explorer URL {explorer_url!r} is not an http(s) URL")
        taken = {p.id for p in self.all()}
        base = _slug(name)
        profile_id, n = base, 2
        while profile_id in taken:
            profile_id, n = f"{base}-{n}", n + 1
        profile = ChainProfile(id=profile_id, name=name, rpc_url=url, chain_id=chain_id,
                               confirmations=confirmations, explorer_url=explorer_url,
                               currency=currency or "ETH")
        if url_has_secret(url):
            # Keyring first: if it fails, nothing is saved at all.
            self.secrets.set(_secret_key(profile_id), url)
            profile = replace(profile, rpc_url=redact_url(url), rpc_in_keyring=True)
        self.settings.chain.profiles.append(profile)
        return profile

    def add_preset(self, key: str, rpc_url: str, name: str = "",
                   confirmations: int | None = None) -> ChainProfile:
        p = preset(key)
        return self.add(name=name or p.name, rpc_url=rpc_url, chain_id=p.chain_id,
                        confirmations=confirmations or p.confirmations,
                        explorer_url=p.explorer_url, currency=p.currency)

    def remove(self, profile_id: str) -> None:
        if profile_id == SANDBOX_ID:
            raise ProfileError("The Sandbox profile is built in and cannot be removed")
        profile = self.get(profile_id)
        if profile.rpc_in_keyring:
            self.secrets.delete(_secret_key(profile_id))
        self.settings.chain.profiles = [p for p in self.settings.chain.profiles
                                        if p.id != profile_id]
        if self.settings.chain.active_profile == profile_id:
            self.settings.chain.active_profile = SANDBOX_ID

    def rpc_url(self, profile: ChainProfile) -> str:
        """The full URL to connect to (from the keyring when it holds a secret)."""
        if profile.id == SANDBOX_ID:
            raise ProfileError("The Sandbox URL comes from the running sandbox node")
        if not profile.rpc_in_keyring:
            return profile.rpc_url
        url = self.secrets.get(_secret_key(profile.id))
        if not url:
            raise ProfileError(
                f"The RPC URL of {profile.name!r} is missing from the OS keyring; add the "
                "profile again with its full URL")
        return url
