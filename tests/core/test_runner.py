"""The one operation runner (Qt-free): blocking work on the pool, coroutines on the app's loop
(or a pool thread's own loop when none is set), callbacks through the dispatcher, failures to
the failure callback or to ``failed``, busy counts, cancellation."""

from __future__ import annotations

import asyncio
import queue
import threading

import pytest

from studio.services.runner import OperationCancelled, OperationRunner


class MainThread:
    """A stand-in main thread: ``post`` queues, ``drain`` runs what was posted, here."""

    def __init__(self) -> None:
        self.q: queue.Queue = queue.Queue()

    def post(self, fn) -> None:
        self.q.put(fn)

    def drain(self, until, timeout: float = 10.0) -> None:
        while not until():
            self.q.get(timeout=timeout)()


@pytest.fixture
def main() -> MainThread:
    return MainThread()


def test_success_failure_and_busy_state(main) -> None:
    runner = OperationRunner(main.post)
    busy, seen, unhandled = [], [], []
    runner.busy_changed.connect(lambda n, label: busy.append((n, label)))
    runner.failed.connect(lambda label, exc: unhandled.append((label, str(exc))))
    here = threading.get_ident()
    where = []

    def work() -> int:
        where.append(threading.get_ident())
        return 42

    runner.run(work, label="Adding").success(
        lambda r: seen.append(("ok", r, threading.get_ident()))).start()
    runner.run(lambda: 1 / 0, label="Dividing").failure(
        lambda e: seen.append(("err", type(e).__name__, threading.get_ident()))).start()
    runner.run(lambda: {}["x"], label="Looking up").start()  # no failure callback
    main.drain(lambda: len(seen) == 2 and unhandled)
    assert where and where[0] != here  # the work ran on the pool
    assert sorted(seen) == [("err", "ZeroDivisionError", here), ("ok", 42, here)]
    assert unhandled == [("Looking up", "'x'")]
    assert busy[0][0] == 1 and busy[-1] == (0, "") and max(n for n, _ in busy) >= 1
    assert runner.busy == 0
    runner.shutdown()


def test_coroutine_without_app_loop_runs_on_a_pool_loop_and_cancels(main) -> None:
    runner = OperationRunner(main.post)
    results = []
    started = threading.Event()

    async def quick() -> str:
        await asyncio.sleep(0)
        return "done"

    async def slow() -> None:
        started.set()
        await asyncio.sleep(30)

    runner.run_async(quick).success(results.append).start()
    op = runner.run_async(slow, label="Waiting").failure(results.append).start()
    assert started.wait(10)
    op.cancel()
    main.drain(lambda: len(results) == 2)
    # The two finish on different pool threads: under load either may be delivered first.
    assert "done" in results
    (cancelled,) = [r for r in results if r != "done"]
    assert isinstance(cancelled, OperationCancelled) and "Waiting" in str(cancelled)
    runner.shutdown()


def test_coroutine_runs_on_the_app_loop_when_one_is_set() -> None:
    """As in the window, where ``runner.loop`` is the qasync loop on the GUI thread."""
    loop = asyncio.new_event_loop()
    runner = OperationRunner(lambda fn: loop.call_soon(fn))
    runner.loop = loop
    threads = []

    async def work() -> int:
        threads.append(threading.get_ident())
        return 7

    async def main() -> int:
        done: asyncio.Future = loop.create_future()
        runner.run_async(work).success(done.set_result).start()
        return await asyncio.wait_for(done, 10)

    try:
        assert loop.run_until_complete(main()) == 7
    finally:
        loop.close()
        runner.shutdown()
    assert threads == [threading.get_ident()]  # on the loop's own (main) thread


def test_work_asked_for_after_shutdown_is_dropped_not_raised(main) -> None:
    """A finished operation's callback may ask for more work while the app closes (the
    inspector chaining a watermark lookup after a verify): that is dropped, and nothing runs."""
    runner = OperationRunner(main.post)
    ran, called = [], []
    first = runner.run(lambda: 1, label="verify").success(
        lambda _: runner.run(lambda: ran.append("late"), label="recover")
        .success(called.append).failure(called.append).start())
    first.start()
    first.wait(5)
    runner.shutdown()
    main.drain(lambda: first.done)
    assert first.done and ran == [] and called == [] and runner.busy == 0
