"""Charts drawn on the server as inline SVG: no script and nothing fetched from elsewhere, so
they show in any browser, print, and are read out by the <title> of each bar."""

from dataclasses import dataclass
from decimal import Decimal

from frontend.presenters import plain

#: Okabe-Ito: told apart by people with any common colour blindness.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
MAX_X_LABELS = 12


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Tick:
    position: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int  # the plot area starts here, after the y axis labels
    bottom: int  # baseline of the plot area
    bars: list[Bar]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    legend: list[tuple[str, str]]  # (colour, name)
    empty: bool


def stacked_bar_chart(
    *, labels: list[str], series: dict[str, list[Decimal]], unit: str, width: int = 760, height: int = 260
) -> Chart:
    """One bar per label, stacked by series; series beyond the palette share its last colour."""
    left, top, bottom = 64, 10, height - 28
    plot_width, plot_height = width - left - 8, bottom - top
    totals = [sum((values[i] for values in series.values()), Decimal("0")) for i in range(len(labels))]
    top_value = _nice_ceiling(max(totals, default=Decimal("0")))
    slot = plot_width / max(len(labels), 1)
    bar_width = max(slot * 0.8, 1)
    colours = {name: PALETTE[min(i, len(PALETTE) - 1)] for i, name in enumerate(series)}
    bars = []
    for i, label in enumerate(labels):
        base = Decimal("0")
        for name, values in series.items():
            if not values[i]:
                continue
            y_low = bottom - float(base / top_value) * plot_height
            base += values[i]
            y_high = bottom - float(base / top_value) * plot_height
            bars.append(
                Bar(
                    x=round(left + i * slot + (slot - bar_width) / 2, 2),
                    y=round(y_high, 2),
                    width=round(bar_width, 2),
                    height=round(y_low - y_high, 2),
                    colour=colours[name],
                    title=f"{label} · {name or '(none)'}: {_format(values[i])} {unit}",
                )
            )
    step = max(1, -(-len(labels) // MAX_X_LABELS))
    x_ticks = [
        Tick(position=round(left + i * slot + slot / 2, 2), text=label)
        for i, label in enumerate(labels)
        if i % step == 0
    ]
    y_ticks = [
        Tick(position=round(bottom - plot_height * k / 4, 2), text=_format(top_value * k / 4))
        for k in range(5)
    ]
    return Chart(
        width=width,
        height=height,
        left=left,
        bottom=bottom,
        bars=bars,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        legend=[(colour, name or "(none)") for name, colour in colours.items()],
        empty=not any(totals),
    )


def _nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 x 10^n at or above value (1 for nothing), so that the four
    grid steps read well."""
    if value <= 0:
        return Decimal("1")
    magnitude = Decimal(10) ** (value.adjusted())
    for factor in (1, 2, Decimal("2.5"), 5, 10):
        if value <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _format(value: Decimal) -> str:
    rounded = Decimal(value).quantize(Decimal("0.01"))
    return plain(rounded)
