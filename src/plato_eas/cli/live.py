"""The live progress line of ``eas run`` on a terminal (rich): a bar, tasks done of the total,
running and failed tasks, the rate and the time left. Off a terminal nothing is drawn, so
logs and pipes get exactly the result."""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import timedelta
from typing import Callable, Iterator, TextIO


def status_fields(snapshot: dict, started: float, first_done: int, now: float) -> dict:
    """Rate (tasks finished per second since the display began) and time left."""
    finished = snapshot["done"] + snapshot["failed"]
    elapsed = max(now - started, 1e-9)
    rate = (finished - first_done) / elapsed
    left = snapshot["total"] - finished
    eta = timedelta(seconds=round(left / rate)) if rate > 0 and left > 0 else None
    return {"running": snapshot["running"] + snapshot["stalled"], "failed": snapshot["failed"],
            "rate": f"{rate:.1f} tasks/s" if rate > 0 else "- tasks/s",
            "eta": f"ETA {eta}" if eta is not None else ("ETA -" if left else "")}


@contextmanager
def live_progress(stream: TextIO, enabled: bool = True) -> Iterator[Callable[[dict], None] |
                                                                    None]:
    """A callback drawing the line on ``stream`` when it is a terminal, else None."""
    if not enabled or not stream.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(file=stream)
    progress = Progress(
        TextColumn("eas run"), BarColumn(), MofNCompleteColumn(), TextColumn("done"),
        TextColumn("{task.fields[running]} running"), TextColumn("{task.fields[failed]} failed"),
        TextColumn("{task.fields[rate]}"), TextColumn("{task.fields[eta]}"),
        console=console, transient=True, auto_refresh=False)
    task = progress.add_task("run", total=None, running=0, failed=0, rate="", eta="")
    first: dict = {}

    def show(snapshot: dict) -> None:
        now = time.monotonic()
        if not first:
            first.update(started=now, done=snapshot["done"] + snapshot["failed"])
        fields = status_fields(snapshot, first["started"], first["done"], now)
        progress.update(task, total=snapshot["total"], completed=snapshot["done"], **fields)
        if not progress.live.is_started:  # drawn from the first counts on, never empty
            progress.start()
        progress.refresh()

    try:
        yield show
    finally:
        if first:
            progress.stop()
