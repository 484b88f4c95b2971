"""How far a load has got: the phase it is in (validate, write, index, statistics), how
much of it is done out of how much, and at the end how long each phase took.

The loader reports (`phase`, `advance`, `finish`); what shows it is chosen by the caller:
`Progress` itself shows nothing and only keeps the times (an import through the API,
`treatykb load --quiet`), `Lines` writes a line every few seconds (a log, a pipe), and
`Bars` draws a bar per phase with its rate and time left on a terminal (app/cli.py).
"""

import time
from typing import IO, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text


class Progress:
    """A load's reports, kept: each phase's time, and how far the current one is."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.name: str | None = None
        self.unit = "records"
        self.done = 0
        self.total: int | None = None
        self.started = 0.0

    def phase(self, name: str, total: int | None = None, unit: str = "records") -> None:
        """A phase begins (and the one before it ends); `total` when known."""
        self._end()
        self.name, self.total, self.unit, self.done = name, total, unit, 0
        self.started = time.perf_counter()
        self.began()

    def advance(self, done: int) -> None:
        """How much of the phase is done so far (not an increment)."""
        self.done = done
        self.moved()

    def finish(self) -> None:
        self._end()

    def _end(self) -> None:
        if self.name is not None:
            self.times[self.name] = self.times.get(self.name, 0.0) + self.elapsed
            self.ended()
            self.name = None

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def summary(self) -> str:
        phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.times.items())
        return f"Done in {sum(self.times.values()):.1f} s: {phases}."

    # What a display does at each report: nothing here.
    def began(self) -> None: ...

    def moved(self) -> None: ...

    def ended(self) -> None: ...


def amount(n: float, unit: str, of: float | None = None) -> str:
    """`n` (of `of`) in `unit`: "1.5 MiB" for bytes, "1,000/2,000 records"."""
    if unit == "bytes":
        n, of, unit = n / 2**20, of / 2**20 if of else None, "MiB"
        shown = f"{n:,.1f}" + (f"/{of:,.1f}" if of else "")
    else:
        shown = f"{n:,.0f}" + (f"/{of:,.0f}" if of else "")
    return f"{shown} {unit}"


class Lines(Progress):
    """A line per phase every `every` seconds (done, rate, time left) and at its end: for
    a log or a pipe, where a redrawn bar would be noise."""

    def __init__(self, stream: IO[str], every: float = 5.0) -> None:
        super().__init__()
        self.stream, self.every, self.said = stream, every, 0.0

    def _say(self, text: str) -> None:
        self.stream.write(f"{self.name}: {text}\n")
        self.stream.flush()
        self.said = time.perf_counter()

    def began(self) -> None:
        self._say(f"started ({amount(self.total, self.unit)})" if self.total else "started")

    def moved(self) -> None:
        if time.perf_counter() - self.said < self.every:
            return
        rate = self.done / self.elapsed if self.elapsed else 0.0
        text = f"{amount(self.done, self.unit)}"
        if self.total:
            text += f" of {amount(self.total, self.unit)} ({self.done / self.total:.0%})"
        text += f", {amount(rate, self.unit)}/s"
        if self.total and rate:
            text += f", about {(self.total - self.done) / rate:,.0f} s left"
        self._say(text)

    def ended(self) -> None:
        did = f", {amount(self.done, self.unit)}" if self.done or self.total else ""
        self._say(f"done{did} in {self.elapsed:.1f} s")


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        unit = task.fields.get("unit", "records")
        return Text(f"{amount(speed, unit)}/s" if speed else "", style="progress.data.speed",
                    no_wrap=True)  # fmt: skip


class _Done(ProgressColumn):
    def render(self, task: Task) -> Text:
        unit = task.fields.get("unit", "records")
        return Text(amount(task.completed, unit, task.total), style="progress.download",
                    no_wrap=True)  # fmt: skip


class Bars(Progress):
    """A bar per phase on a terminal, with its rate and time left (rich)."""

    def __init__(self, console: Console | None = None) -> None:
        super().__init__()
        self.bars = RichProgress(
            TextColumn("{task.description:<10}"), BarColumn(bar_width=12), _Done(), _Rate(),
            TimeRemainingColumn(), TimeElapsedColumn(),
            console=console or Console(stderr=True), transient=False,
        )  # fmt: skip
        self.task: Any = None

    def began(self) -> None:
        if not self.bars.live.is_started:  # the first phase, or one after finish()
            self.bars.start()
        self.task = self.bars.add_task(self.name or "", total=self.total, unit=self.unit)

    def moved(self) -> None:
        self.bars.update(self.task, completed=self.done)

    def ended(self) -> None:
        self.bars.update(self.task, completed=self.done, total=self.total or self.done or 1)

    def finish(self) -> None:
        super().finish()
        self.bars.stop()
