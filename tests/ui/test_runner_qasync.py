"""In the window the runner's coroutines run on the qasync loop, beside the GUI, and their
callbacks arrive on the GUI thread through the Qt dispatcher."""

from __future__ import annotations

import asyncio
import threading

import qasync

from studio.services.runner import OperationRunner
from studio.ui.dispatch import gui_post


def test_async_operation_on_the_qasync_loop(qapp) -> None:
    loop = qasync.QEventLoop(qapp, already_running=False)
    runner = OperationRunner(gui_post())
    runner.loop = loop
    gui = threading.get_ident()
    ran_on, called_on = [], []

    async def work() -> str:
        ran_on.append(threading.get_ident())
        await asyncio.sleep(0.01)
        return "ok"

    async def main() -> str:
        done: asyncio.Future = loop.create_future()

        def success(result: str) -> None:
            called_on.append(threading.get_ident())
            done.set_result(result)

        runner.run(lambda: threading.get_ident()).success(
            lambda tid: called_on.append(("pool", tid))).start()
        runner.run_async(work).success(success).start()
        return await asyncio.wait_for(done, 10)

    try:
        assert loop.run_until_complete(main()) == "ok"
    finally:
        runner.shutdown()
        loop.close()
    assert ran_on == [gui]  # the coroutine ran on the GUI thread's (qasync) loop
    assert gui in called_on  # its callback too
