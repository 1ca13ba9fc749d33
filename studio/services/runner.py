"""One operation runner for all slow work, in the style of Anki's ``CollectionOp``/``QueryOp``:

    studio.runner.run(fn, label="Reading credentials").success(show).failure(oops).start()

Blocking work runs on a thread pool; coroutines run on the app's asyncio loop (the qasync loop
the window sets as :attr:`OperationRunner.loop`) or, where none is set (tests, the CLI), on a
pool thread's own loop. Callbacks always run on the main thread through the dispatcher.
Failures without a ``failure`` callback go to :attr:`OperationRunner.failed`, which the
window shows one way.
Qt-free: the GUI passes a ``post`` that queues a callable onto the Qt thread.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from psygnal import Signal

if TYPE_CHECKING:  # asyncio loads with the first coroutine, not with the window
    import asyncio

log = logging.getLogger(__name__)
T = TypeVar("T")
Post = Callable[[Callable[[], None]], None]


class OperationCancelled(Exception):
    """The operation was cancelled before it finished."""


def _direct(fn: Callable[[], None]) -> None:
    fn()


class Operation(Generic[T]):
    """One piece of slow work; configure with :meth:`success`/:meth:`failure`, then start."""

    def __init__(self, runner: OperationRunner, fn: Callable[[], Any], *, label: str,
                 is_async: bool) -> None:
        self._runner, self._fn, self.label, self._async = runner, fn, label, is_async
        self._success: Callable[[T], Any] | None = None
        self._failure: Callable[[Exception], Any] | None = None
        self._cancel: Callable[[], None] | None = None
        self._future: Future | None = None
        self._cancelled = False
        self.done = False

    def success(self, fn: Callable[[T], Any] | None) -> Operation[T]:
        self._success = fn
        return self

    def failure(self, fn: Callable[[Exception], Any] | None) -> Operation[T]:
        self._failure = fn
        return self

    def start(self) -> Operation[T]:
        self._runner._start(self)
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work itself ended (not its callbacks, which run on the main thread
        later); True when it did. For shutdown and tests of pool operations."""
        import concurrent.futures

        if self._future is None:
            return self.done
        try:
            self._future.exception(timeout)
        except concurrent.futures.TimeoutError:
            return False
        except concurrent.futures.CancelledError:
            pass
        return True

    def cancel(self) -> None:
        """Stop the work if it can be stopped; its callbacks get :class:`OperationCancelled`."""
        self._cancelled = True
        if self._cancel is not None:
            self._cancel()

    def _finish(self, result: Any = None, exc: BaseException | None = None) -> None:
        if self.done:
            return
        self.done = True
        self._runner._ended(self)
        if _is_async_cancel(exc) or (self._cancelled and exc is not None):
            exc = OperationCancelled(f"{self.label or 'The operation'} was cancelled")
        if exc is not None:
            if not isinstance(exc, Exception):
                raise exc
            if self._failure is not None:
                self._failure(exc)
            else:
                log.error("%s failed: %s", self.label or "operation", exc,
                          exc_info=(type(exc), exc, exc.__traceback__))
                self._runner.failed.emit(self.label, exc)
            return
        if self._success is not None:
            self._success(result)


class OperationRunner:
    """Starts :class:`Operation`s and counts the running ones (``busy_changed``)."""

    busy_changed = Signal(int, str)  # (running count, label of the latest)
    failed = Signal(str, object)  # (label, exception) for operations without a failure callback

    def __init__(self, post: Post | None = None, max_workers: int = 4) -> None:
        self.post: Post = post or _direct
        self.loop: asyncio.AbstractEventLoop | None = None  # the app's loop, on the main thread
        self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix="studio-op")
        self._running: list[Operation[Any]] = []
        self._lock = threading.Lock()
        self._closed = False

    # -- building ---------------------------------------------------------------------------

    def run(self, fn: Callable[[], T], *, label: str = "") -> Operation[T]:
        """Blocking ``fn`` on the thread pool."""
        return Operation(self, fn, label=label, is_async=False)

    def run_async(self, fn: Callable[[], Awaitable[T]], *, label: str = "") -> Operation[T]:
        """Coroutine function ``fn`` on the app's event loop."""
        return Operation(self, fn, label=label, is_async=True)

    @property
    def busy(self) -> int:
        return len(self._running)

    def labels(self) -> list[str]:
        return [op.label for op in self._running if op.label]

    # -- running ----------------------------------------------------------------------------

    def _start(self, op: Operation[Any]) -> None:
        if self._closed:
            # The app is closing: a callback of finished work (an inspector showing its result,
            # say) may still ask for more. It is dropped, never run half-way on a dead pool.
            op.done = True
            log.debug("not started after shutdown: %s", op.label or "operation")
            return
        with self._lock:
            self._running.append(op)
        self.busy_changed.emit(len(self._running), op.label)
        loop = self.loop
        if op._async and loop is not None and loop.is_running():
            task = loop.create_task(op._fn())
            op._cancel = task.cancel
            task.add_done_callback(lambda t: op._finish(*_outcome(t)))
            return
        if op._async:
            future = self._pool.submit(self._run_loop, op)
        else:
            future = self._pool.submit(op._fn)
            op._cancel = future.cancel  # only before it started; later results are dropped
        op._future = future
        future.add_done_callback(lambda f: self.post(lambda: op._finish(*_outcome(f))))

    @staticmethod
    def _run_loop(op: Operation[Any]) -> Any:
        import asyncio

        async def main() -> Any:
            task = asyncio.current_task()
            loop = asyncio.get_running_loop()
            assert task is not None
            op._cancel = lambda: _call_soon(loop, task.cancel)
            if op._cancelled:
                task.cancel()
            return await op._fn()

        return asyncio.run(main())

    def _ended(self, op: Operation[Any]) -> None:
        with self._lock:
            if op in self._running:
                self._running.remove(op)
            labels = [o.label for o in self._running if o.label]
        self.busy_changed.emit(len(self._running), labels[-1] if labels else "")

    def shutdown(self) -> None:
        self._closed = True
        for op in list(self._running):
            op.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[[], Any]) -> None:
    with contextlib.suppress(RuntimeError):  # the loop already finished: nothing to stop
        loop.call_soon_threadsafe(fn)


def _outcome(f: Future | asyncio.Future) -> tuple[Any, BaseException | None]:
    if f.cancelled():
        import asyncio

        return None, asyncio.CancelledError()
    exc = f.exception()
    return (None, exc) if exc is not None else (f.result(), None)


def _is_async_cancel(exc: BaseException | None) -> bool:
    asyncio = sys.modules.get("asyncio")  # no asyncio loaded: no asyncio cancellation
    return asyncio is not None and isinstance(exc, asyncio.CancelledError)
