"""A progress bar for long loads: tqdm (``tqdm.auto``, so notebooks get a widget), shown only where a person looks.

By default (``progress=None``) the bar shows when standard error is a terminal or the code runs in a Jupyter
kernel, and never under pytest or in CI. ``progress=True`` forces it, ``False`` hides it.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    import polars as pl

    from auditlab.load._io import Source

__all__ = ["interactive", "progress_bar"]


def interactive() -> bool:
    """Whether a person is probably watching: a terminal or a notebook, and not a test run or CI."""
    if "PYTEST_CURRENT_TEST" in os.environ or os.environ.get("CI"):
        return False
    if "ipykernel" in sys.modules:
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


class _Bar:
    """Advances by input bytes: a source's byte offsets as its batches arrive, its full size when it is done."""

    def __init__(self, bar: Any) -> None:
        self._bar = bar
        self._seen: dict[str, int] = {}

    def advance(self, source: Source, frame: pl.DataFrame) -> None:
        if self._bar is None or source.compression is not None or frame.height == 0:
            return
        last = frame.get_column("source_offset").max()
        if isinstance(last, int):
            self._step(source, min(last, source.size))

    def done(self, source: Source) -> None:
        if self._bar is not None:
            self._step(source, source.size)

    def _step(self, source: Source, upto: int) -> None:
        before = self._seen.get(source.name, 0)
        if upto > before:
            self._seen[source.name] = upto
            self._bar.update(upto - before)


@contextmanager
def progress_bar(plan: Sequence[tuple[Source, Any]], *, enabled: bool | None) -> Iterator[_Bar]:
    """A bar over the total input size of ``plan``; a silent stand-in when not enabled."""
    show = interactive() if enabled is None else enabled
    if not show:
        yield _Bar(None)
        return
    from tqdm.auto import tqdm

    total = sum(source.size for source, _ in plan)
    bar = tqdm(total=total, unit="B", unit_scale=True, desc="auditlab.load", leave=False)
    try:
        yield _Bar(bar)
    finally:
        bar.close()
