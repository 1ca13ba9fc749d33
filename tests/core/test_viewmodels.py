"""The view-models are Qt-free and follow the app's events (plain Python, no window)."""

from __future__ import annotations

import queue

from studio.core.settings import SettingsStore
from studio.services.studio import Studio
from studio.viewmodels import ViewModels


def _studio(paths) -> tuple[Studio, queue.Queue]:
    posted: queue.Queue = queue.Queue()
    studio = Studio(paths.ensure(), SettingsStore(paths.settings_file), post=posted.put)
    return studio, posted


def _drain(posted: queue.Queue, until, timeout: float = 10.0) -> None:
    while not until():
        posted.get(timeout=timeout)()


def test_chain_status_follows_switches_and_profiles(paths) -> None:
    studio, posted = _studio(paths)
    status = ViewModels.of(studio).chain
    assert ViewModels.of(studio).chain is status  # one per studio
    seen = []
    status.changed.connect(lambda text, tip: seen.append(text))
    assert status.text == "Chain: Sandbox (not started)"
    studio.add_chain(name="Local", rpc_url="http://127.0.0.1:9/", chain_id=31337)
    studio.switch_chain("local")
    _drain(posted, lambda: bool(seen))
    assert seen[-1] == "Chain: Local (chain 31337)"
    assert SettingsStore(paths.settings_file).load().settings.chain.active_profile == "local"
    studio.remove_chain("local")  # the Sandbox becomes active again
    _drain(posted, lambda: seen[-1] == "Chain: Sandbox (not started)")
    studio.close()


def test_activity_reloads_on_transaction_events(paths) -> None:
    studio, posted = _studio(paths)
    activity = ViewModels.of(studio).activity
    changes = []
    activity.changed.connect(lambda: changes.append(len(activity.records)))
    activity.reload()
    _drain(posted, lambda: changes == [0])
    studio.emit(studio.events.transaction_updated, 0)
    _drain(posted, lambda: len(changes) == 2)
    studio.close()
    studio.emit(studio.events.transaction_updated, 0)  # closed: nobody hears anything
    assert posted.empty()


def test_library_query_and_selection_are_observable(paths) -> None:
    from studio.core.library.library import AssetSort, AssetView

    studio, posted = _studio(paths)
    library = ViewModels.of(studio).library
    queries, selections, changes = [], [], []
    library.query_changed.connect(lambda *q: queries.append(q))
    library.selection_changed.connect(selections.append)
    library.changed.connect(lambda what, i: changes.append((what, i)))
    library.set_query(text="fog")
    library.set_query(view=AssetView.GENERATED, sort=AssetSort.OLDEST)
    library.set_query(text="fog")  # no change: no event
    assert queries == [("fog", AssetView.ALL, AssetSort.NEWEST),
                       ("fog", AssetView.GENERATED, AssetSort.OLDEST)]
    library.set_selection([3, 5])
    library.set_selection((3, 5))
    assert selections == [(3, 5)]
    studio.emit(studio.events.asset_minted, 5)
    _drain(posted, lambda: bool(changes))
    assert changes == [("minted", 5)]
    studio.close()
