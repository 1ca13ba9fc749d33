"""The composition root: one :class:`Studio` per process, built at start by the window or the
CLI. It creates the library, the generation engine (with its signer), the wallet, chain
sessions, the provenance reader and the secret store lazily, on first use, so nothing heavy is
imported at start. Widgets and commands ask it for services instead of building their own."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from studio.core.paths import StudioPaths
from studio.core.settings import ChainProfile, Settings, SettingsStore

if TYPE_CHECKING:
    import asyncio

    from psygnal import SignalInstance

    from studio.core.chain.profiles import ChainProfiles
    from studio.core.generation.engine import GenerationEngine
    from studio.core.library import Library
    from studio.core.secrets import SecretStore
    from studio.core.wallet.service import WalletService
    from studio.services.events import StudioEvents
    from studio.services.runner import OperationRunner, Post

log = logging.getLogger(__name__)


class Studio:
    def __init__(self, paths: StudioPaths, settings_store: SettingsStore,
                 settings: Settings | None = None, *, notices: list[str] | None = None,
                 post: Post | None = None) -> None:
        self.paths = paths
        self.settings_store = settings_store
        self.settings = settings if settings is not None else settings_store.load().settings
        self.notices = list(notices or [])
        self._post = post
        self._loop: asyncio.AbstractEventLoop | None = None
        self._engine_listeners: list[Callable[[Any], None]] = []  # for when it is built
        self.closed = False
        self._lock = threading.RLock()

    @classmethod
    def open(cls, paths: StudioPaths, *, post: Post | None = None) -> Studio:
        """Settings from disk (with any notices about repairs made while loading them)."""
        paths.ensure()
        store = SettingsStore(paths.settings_file)
        loaded = store.load()
        return cls(paths, store, loaded.settings, notices=list(loaded.notices), post=post)

    # The event hub and the runner are built on first use: both need psygnal, which the
    # window must not import before its first paint (bench/startup.py).

    @cached_property
    def events(self) -> StudioEvents:
        from studio.services.events import StudioEvents

        return StudioEvents()

    @cached_property
    def runner(self) -> OperationRunner:
        from studio.services.runner import OperationRunner

        runner = OperationRunner(self._post)
        runner.loop = self._loop
        return runner

    def set_dispatcher(self, post: Post) -> None:
        """Where callbacks and events run: the GUI queues them onto the Qt thread."""
        self._post = post
        if "runner" in self.__dict__:
            self.runner.post = post

    def set_loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """The app's asyncio loop (qasync), where the runner starts coroutines."""
        self._loop = loop
        if "runner" in self.__dict__:
            self.runner.loop = loop

    def emit(self, signal: SignalInstance, *args: Any) -> None:
        """Emit an app event on the main thread, from any thread (none once closed)."""
        if not self.closed:
            self.runner.post(lambda: None if self.closed else signal.emit(*args))

    # -- lowest floor ------------------------------------------------------------------------

    @cached_property
    def library(self) -> Library:
        from studio.core.library import Library

        return Library.open(self.paths)

    def save_settings(self) -> None:
        try:
            self.settings_store.save(self.settings)
        except OSError as exc:
            log.error("could not save settings: %s", exc)
            raise

    @cached_property
    def secrets(self) -> SecretStore:
        from studio.core.secrets import SecretStore

        return SecretStore()

    # -- wallet ------------------------------------------------------------------------------

    @cached_property
    def wallet(self) -> WalletService:
        from studio.core.wallet.service import WalletService

        return WalletService(self.settings_store, lambda: self.settings)

    def local_account(self, who: str | None = None) -> Any:
        """The signing account for address/label ``who`` (default: the active one). Blocking
        (keyring)."""
        from studio.core.wallet.errors import AccountNotFoundError

        if who:
            address = self.wallet.get_account(who).address
        else:
            active = self.wallet.active_account()
            if active is None:
                raise AccountNotFoundError("No wallet account: create or import one in the "
                                           "Wallet section (or `studio wallet create`)")
            address = active.address
        return self.wallet.local_account(address)

    # -- chains ------------------------------------------------------------------------------

    @property
    def profiles(self) -> ChainProfiles:
        from studio.core.chain.profiles import ChainProfiles

        return ChainProfiles(self.settings)

    def profile(self, which: ChainProfile | str | None = None) -> ChainProfile:
        if isinstance(which, ChainProfile):
            return which
        return self.profiles.get(which) if which else self.profiles.active()

    def sandbox(self) -> Any:
        from studio.core.chain.sandbox import shared_sandbox

        return shared_sandbox(self.paths.data_dir)

    def sandbox_running(self) -> bool:
        """Whether this process runs or uses the Sandbox node. Cheap before any chain work:
        no Sandbox exists until its module is loaded (it would pull in subprocess and uuid)."""
        if "studio.core.chain.sandbox" not in sys.modules:
            return False
        return self.sandbox().running

    def is_running(self, profile: ChainProfile) -> bool:
        """Whether ``profile``'s node is known to be up (the Sandbox's own process)."""
        from studio.core.chain.profiles import SANDBOX_ID

        return profile.id != SANDBOX_ID or self.sandbox().running

    def endpoint_url(self, profile: ChainProfile) -> str:
        """The RPC URL for ``profile``; starts the Sandbox node when it is the Sandbox (blocking:
        call it off the GUI thread)."""
        from studio.core.chain.profiles import SANDBOX_ID

        if profile.id != SANDBOX_ID:
            return self.profiles.rpc_url(profile)
        with self._lock:
            box = self.sandbox()
            was_running = box.running
            url = box.start()
        if not was_running:
            self.emit(self.events.chain_started, profile.id)
        return url

    def stop_sandbox(self) -> None:
        from studio.core.chain.profiles import SANDBOX_ID
        from studio.core.chain.sandbox import stop_shared_sandboxes

        was_running = self.sandbox().running
        stop_shared_sandboxes()  # anvil dumps its state on the way out
        if was_running:
            self.emit(self.events.chain_stopped, SANDBOX_ID)

    def switch_chain(self, profile_id: str) -> ChainProfile:
        """Make ``profile_id`` the active chain and save the settings."""
        profile = self.profiles.use(profile_id)
        self.save_settings()
        self.emit(self.events.chain_switched, profile.id)
        return profile

    async def test_chain(self, profile: ChainProfile | str | None = None) -> Any:
        """Connect to ``profile`` (starting the Sandbox if it is that) and report chain id,
        block, latency and client."""
        import asyncio

        from studio.core.chain.rpc import test_connection

        profile = self.profile(profile)
        url = await asyncio.to_thread(self.endpoint_url, profile)
        return await test_connection(url, profile.chain_id)

    def add_chain(self, *, preset: str = "", **fields: Any) -> ChainProfile:
        """Add a chain profile (a URL with an API key goes to the keyring, never the settings
        file) and save the settings. ``preset`` fills chain id, explorer and currency."""
        profiles = self.profiles
        if preset:
            profile = profiles.add_preset(preset, fields["rpc_url"], name=fields.get("name", ""),
                                          confirmations=fields.get("confirmations"))
        else:
            profile = profiles.add(**fields)
        self.save_settings()
        self.emit(self.events.chain_profiles_changed)
        return profile

    def remove_chain(self, profile_id: str) -> None:
        """Remove a profile (and its keyring secret); the Sandbox becomes active if it was."""
        was_active = self.profiles.active().id == profile_id
        self.profiles.remove(profile_id)
        self.save_settings()
        self.emit(self.events.chain_profiles_changed)
        if was_active:
            self.emit(self.events.chain_switched, self.profiles.active().id)

    def chain_session(self, profile: ChainProfile | str | None = None, **kwargs: Any):
        """``async with studio.chain_session(profile) as s:`` — see :meth:`ChainSession.open`."""
        from studio.services.chain import ChainSession

        return ChainSession.open(self, profile, **kwargs)

    async def balances(self, addresses: list[str],
                       profile: ChainProfile | None = None) -> dict[str, int]:
        """Balances in wei on ``profile`` (default: active), without starting any node."""
        from studio.core.chain.rpc import connect

        profile = self.profile(profile)
        if not self.is_running(profile):
            return {}
        import asyncio

        url = await asyncio.to_thread(self.endpoint_url, profile)
        w3 = connect(url)
        try:
            return {a: int(await w3.eth.get_balance(w3.to_checksum_address(a)))
                    for a in addresses}
        finally:
            await w3.provider.disconnect()

    async def fund(self, address: str, amount_wei: int) -> int:
        """Give ``address`` test ETH on the Sandbox (starting it); returns the new balance."""
        import asyncio

        from studio.core.chain.profiles import SANDBOX_ID
        from studio.core.chain.sandbox import fund_account

        url = await asyncio.to_thread(self.endpoint_url, self.profile(SANDBOX_ID))
        balance = await fund_account(url, address, amount_wei)
        self.emit(self.events.balance_changed, address)
        return balance

    # -- generation and provenance -----------------------------------------------------------

    def signer(self) -> Callable[[bytes, Any, int], bytes]:
        """``sign(png, request, seed)`` for generated images (keyring read on first use)."""
        from studio.core.provenance.studio_signer import studio_signer

        return studio_signer(self.paths, self.settings, self.library)

    @cached_property
    def engine(self) -> GenerationEngine:
        """The generation engine (built on first use, with its worker thread); each finished
        job's assets are announced as ``asset_added``."""
        from studio.core.generation.engine import GenerationEngine, JobFinished

        gs = self.settings.generation
        engine = GenerationEngine(self.library, gs, preview_every=gs.preview_every,
                                  sign=self.signer(), cache_dir=self.paths.cache_dir / "compile")

        def announce(ev: object) -> None:
            if isinstance(ev, JobFinished):
                for asset in ev.assets:
                    self.emit(self.events.asset_added, asset.id)

        engine.add_listener(announce)
        for listener in self._engine_listeners:
            engine.add_listener(listener)
        return engine

    def add_engine_listener(self, listener: Callable[[Any], None]) -> None:
        """Hear the engine's events (on its threads) from when it is built, or now if it is;
        does not build it."""
        if "engine" in self.__dict__:
            self.engine.add_listener(listener)
        else:
            self._engine_listeners.append(listener)

    def remove_engine_listener(self, listener: Callable[[Any], None]) -> None:
        if listener in self._engine_listeners:
            self._engine_listeners.remove(listener)
        if "engine" in self.__dict__:
            self.engine.remove_listener(listener)

    def read_credentials(self, path: Any, *, fetch_remote: bool = False) -> Any:
        """The provenance report of the file at ``path`` against the user's trust anchors
        (a remote manifest only with ``fetch_remote``). Blocking (c2pa)."""
        from studio.core.provenance.reader import read_report
        from studio.core.provenance.trust import anchors_for

        return read_report(path, anchors_for(self.settings.provenance, self.paths),
                           fetch_remote=fetch_remote)

    def recover_credentials(self, path: Any) -> Any:
        """Where the studio watermark of a file without credentials leads: the signed
        original in the library (core/provenance/recovery.py). Blocking (decodes pixels)."""
        from studio.core.provenance.recovery import recover
        from studio.core.provenance.trust import anchors_for

        return recover(path, self.paths, anchors_for(self.settings.provenance, self.paths))

    async def find_watermark_token(self, recovery: Any, path: Any,
                                   profile: ChainProfile | str | None = None) -> Any:
        """The token on ``profile`` (default: the active one) whose mint recorded the
        watermark of a file this library could not lead anywhere (core/chain/durable.py),
        or None. Only the chain is contacted (no metadata fetch), and only a node that is up:
        the Sandbox is not started for this."""
        from pathlib import Path

        from studio.core.chain.durable import recover_on_chain

        profile = self.profile(profile)
        if getattr(recovery, "payload", None) is None or not self.is_running(profile):
            return None
        import asyncio

        copy = await asyncio.to_thread(Path(path).read_bytes)
        async with self.chain_session(profile, account=None, check=True) as session:
            return await recover_on_chain(session.tm, self.library, recovery, copy)

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Stop background work and close the library; views hear nothing more."""
        self.closed = True
        if "events" in self.__dict__:  # never built: nobody listens
            self.events.disconnect()
        engine = self.__dict__.pop("engine", None)
        if engine is not None:
            engine.shutdown()
        if "runner" in self.__dict__:
            self.runner.shutdown()
        library = self.__dict__.pop("library", None)
        if library is not None:
            library.close()

