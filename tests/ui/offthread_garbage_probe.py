"""A Qt object that ends in a reference cycle, dropped while a worker thread allocates: which thread destroys it?

Run by test_garbage_on_the_gui_thread.py in a subprocess (an object destroyed on the wrong thread may crash the
process). ``plain``: Python's automatic collection; ``collector``: app.process.GuiThreadCollector driven by a
QTimer, as the GUI session drives it. Prints one JSON line: the thread names that destroyed the objects.
"""

from __future__ import annotations

import json
import sys
import threading
import time

from PySide6.QtCore import QCoreApplication, QObject, QTimer

from app.process import GuiThreadCollector

app = QCoreApplication([])
collector = GuiThreadCollector()
if sys.argv[1] == "collector":
    collector.start()
    ticker = QTimer()
    ticker.timeout.connect(collector.collect_due)
    ticker.start(10)

destroyed_on: list[str] = []


class Holder(QObject):
    """Holds a parentless running timer and itself (a cycle, as a dialog whose slots refer back to it has)."""

    def __init__(self) -> None:
        super().__init__()
        self.timer = QTimer()  # parentless: the Python wrapper owns it, so collecting the wrapper destroys it
        self.timer.timeout.connect(self.tick)
        self.timer.start(60_000)
        self.timer.destroyed.connect(lambda: destroyed_on.append(threading.current_thread().name))
        self.me = self

    def tick(self) -> None:
        pass


for _ in range(5):
    Holder()


def allocate() -> None:
    """What a page parse does on the net pool: many small containers, some in cycles."""
    for _ in range(20_000):
        a: list[object] = []
        a.append(a)


worker = threading.Thread(target=allocate, name="net-0")
worker.start()
worker.join()
deadline = time.monotonic() + 5
while len(destroyed_on) < 5 and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.005)
collector.stop()
print(json.dumps({"destroyed_on": destroyed_on}), flush=True)
