"""Named crash points: where a test kills a real ``studio`` process to prove it resumes.

``STUDIO_CRASH_AT=<name>`` in the environment makes :func:`crash_point` SIGKILL the process
when it reaches that point (no cleanup, no atexit, like a power cut). Unset, it costs one
dictionary lookup.
"""

from __future__ import annotations

import os
import signal

ENV_VAR = "STUDIO_CRASH_AT"


def crash_point(name: str) -> None:
    if os.environ.get(ENV_VAR) == name:
        os.kill(os.getpid(), signal.SIGKILL)
