"""Guards the PySide6 pin: 6.12.0 dropped a reference to True on every Python signal emit,
which aborts the interpreter ("bool_dealloc") after a few thousand emits (a large import)."""

import subprocess
import sys

PROBE = """
import sys
from PySide6.QtCore import QCoreApplication, QObject, Signal
app = QCoreApplication([])
class Source(QObject):
    ping = Signal(int)
    pair = Signal(object, str)
s = Source(); got = []
s.ping.connect(got.append); s.pair.connect(lambda a, b: got.append(b))
before = sys.getrefcount(True)
for i in range(5000):
    s.ping.emit(i)
    s.pair.emit(i, "x")
print(len(got), sys.getrefcount(True) - before)
"""


def test_signal_emits_keep_bool_refcounts() -> None:
    # A subprocess: on an affected PySide6 the probe aborts the interpreter.
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, f"interpreter aborted: {out.stderr[-500:]}"
    received, delta = map(int, out.stdout.split())
    assert received == 10_000
    assert abs(delta) < 50, f"True lost {delta} references over 10,000 emits"
