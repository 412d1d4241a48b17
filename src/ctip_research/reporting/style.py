"""The package's figure style and deterministic rendering.

The style (``ctip.mplstyle`` beside this module) is colour-blind-safe and readable when printed in
grey: Paul Tol's 'high contrast' scheme plus black (four clearly different lightnesses), and every
series also differs by marker and line style. Figures are built on :class:`matplotlib.figure.Figure`
directly (no pyplot state). :func:`render_figure` gives PNG or SVG bytes with no date, no software
version and a fixed SVG hash salt, so the same figure gives the same bytes.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import matplotlib as mpl
from matplotlib.figure import Figure

__all__ = [
    "COLOURS",
    "MARKERS",
    "STYLE_FILE",
    "figure_style",
    "new_figure",
    "render_figure",
]

STYLE_FILE = Path(__file__).with_name("ctip.mplstyle")
#: Series colours in order (Paul Tol 'high contrast' + black; distinct in grey print).
COLOURS: tuple[str, ...] = ("#000000", "#004488", "#DDAA33", "#BB5566")
#: Series markers in order (a second, colour-free channel).
MARKERS: tuple[str, ...] = ("o", "s", "^", "D")
#: Light grey for reference lines and suppressed-cell notes.
GREY = "#777777"

FigureFormat = Literal["png", "svg"]


@contextlib.contextmanager
def figure_style() -> Iterator[None]:
    """Apply the package style (and only it) inside the block.

    Examples
    --------
    >>> with figure_style():
    ...     fig = new_figure()
    """
    rc = mpl.rc_params_from_file(str(STYLE_FILE), use_default_template=False)
    with mpl.rc_context(rc=dict(rc)):
        yield


def new_figure(width: float = 6.4, height: float = 3.8) -> Figure:
    """A new figure (inches) with one axes, outside pyplot's global state.

    Examples
    --------
    >>> fig = new_figure(4, 3)
    >>> len(fig.axes)
    1
    """
    fig = Figure(figsize=(width, height), layout="constrained")
    fig.add_subplot()
    return fig


def render_figure(fig: Figure, fmt: FigureFormat, *, dpi: int = 200) -> bytes:
    """Render ``fig`` to PNG or SVG bytes, deterministically (no dates, fixed ids).

    Examples
    --------
    >>> with figure_style():
    ...     fig = new_figure(2, 2)
    ...     a, b = render_figure(fig, "svg"), render_figure(fig, "svg")
    >>> a == b
    True
    """
    buf = io.BytesIO()
    if fmt == "svg":
        metadata: dict[str, str | None] = {"Date": None, "Creator": "ctip_research"}
    else:
        metadata = {"Software": None}
    with figure_style():
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=metadata)
    return buf.getvalue()
