"""
A textual progress bar on stderr, weighted by the expected seconds of each step.

On a terminal it redraws one line; elsewhere (CI, a log file) it prints a line only when
the step changes, so logs stay readable.
"""

import sys
import time


class Progress:
    def __init__(self, total: float, *, stream=None, width: int = 28, enabled: bool = True):
        self.total = max(total, 1e-9)
        self.done = 0.0
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.enabled = enabled
        self.label = ""
        self.started = time.monotonic()
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_line = ""

    def fraction(self) -> float:
        return min(1.0, self.done / self.total)

    def render(self) -> str:
        filled = round(self.fraction() * self.width)
        elapsed = int(time.monotonic() - self.started)
        return (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {self.fraction() * 100:3.0f}% "
            f"{elapsed // 60}:{elapsed % 60:02d}  {self.label}"
        )

    def _draw(self, *, force: bool = False) -> None:
        if not self.enabled:
            return
        line = self.render()
        if self.interactive:
            self.stream.write("\r\033[K" + line)
            self.stream.flush()
        elif force and line != self._last_line:
            self.stream.write(line + "\n")
            self.stream.flush()
        self._last_line = line

    def step(self, label: str) -> None:
        """Show what is running now."""
        self.label = label
        self._draw(force=True)

    def advance(self, seconds: float) -> None:
        """Count ``seconds`` of the expected total as done."""
        self.done += seconds
        self._draw()

    def advance_to(self, done: float) -> None:
        """Count the expected total as done up to ``done`` (a step that ended early)."""
        self.done = max(self.done, done)
        self._draw()

    def tick(self) -> None:
        """Redraw (the elapsed time) without advancing; cheap enough to call in loops."""
        if self.interactive:
            self._draw()

    def finish(self) -> None:
        self.done = self.total
        self.label = "done"
        self._draw(force=True)
        if self.enabled and self.interactive:
            self.stream.write("\n")
            self.stream.flush()
