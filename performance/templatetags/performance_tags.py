"""Template tags of the performance pages: KPI values as people read them, grade and flag
badges, and trend charts drawn as inline SVG on the server (no script, no external asset: the
pages work offline and print as they look).

- `{{ value|kpi_value:kpi }}`: ratios as percentages with one decimal ("85.2%"), money with two
  decimals grouped by thousands, counts plain, the incentive return as "5.00×", scores with two
  decimals, "—" for nothing.
- `{% trend_chart points kind="money" title="..." target=None %}`: a line chart of `points`,
  [(period code, Decimal or None)] oldest first; a None leaves a gap. `kind` formats the axis
  (money, ratio, score, count); `target` draws a dashed reference line.
- `{{ grade|grade_badge }}`, `{{ status|flag_badge }}`: coloured badges.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from ..choices import FlagStatus, Grade, Kpi

register = template.Library()

RATIO_KPIS = {
    Kpi.TARGET_ATTAINMENT,
    Kpi.GROWTH_POP,
    Kpi.GROWTH_YOY,
    Kpi.CROSS_TERRITORY_SHARE,
    Kpi.PRICE_COMPLIANCE,
    Kpi.TRAINING_COMPLETION,
}
MONEY_KPIS = {Kpi.REVENUE, Kpi.REVENUE_TARGET, Kpi.INCENTIVE_SPEND}
COUNT_KPIS = {Kpi.UNITS, Kpi.ACTIVE_CUSTOMERS, Kpi.CERTIFIED_STAFF}
DASH = "—"


def _decimal(value):
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _fixed(number, places):
    quantum = Decimal(1).scaleb(-places)
    return number_format(number.quantize(quantum, rounding=ROUND_HALF_UP), decimal_pos=places, force_grouping=True)


def format_kind(value, kind):
    """A number formatted for its kind: ratio, money, score, count (or "—"); "axis-money" is
    money without cents, for chart axes."""
    number = _decimal(value)
    if number is None:
        return DASH
    if kind == "axis-money":
        return _fixed(number, 0)
    if kind == "ratio":
        return f"{_fixed(number * 100, 1)}%"
    if kind == "money":
        return _fixed(number, 2)
    if kind == "count":
        return _fixed(number, 0) if number == number.to_integral() else _fixed(number, 3)
    if kind == "times":
        return f"{_fixed(number, 2)}×"
    return _fixed(number, 2)


def kpi_kind(kpi):
    if kpi in RATIO_KPIS:
        return "ratio"
    if kpi in MONEY_KPIS:
        return "money"
    if kpi in COUNT_KPIS:
        return "count"
    if kpi == Kpi.INCENTIVE_RETURN:
        return "times"
    return "score"


@register.filter
def kpi_value(value, kpi):
    """{{ value|kpi_value:"target_attainment" }} → "85.2%"."""
    return format_kind(value, kpi_kind(kpi))


@register.filter
def kpi_label(kpi):
    """{{ "revenue"|kpi_label }} → the KPI's name in the active language."""
    return dict(Kpi.choices).get(kpi, kpi)


_GRADE_COLOURS = {Grade.A: "success", Grade.B: "primary", Grade.C: "warning", Grade.D: "danger"}
_FLAG_COLOURS = {
    FlagStatus.OPEN: "danger",
    FlagStatus.ACKNOWLEDGED: "warning",
    FlagStatus.ACTION_PLAN: "info",
    FlagStatus.RESOLVED: "success",
}


@register.filter
def grade_badge(grade):
    if not grade:
        return DASH
    return format_html(
        '<span class="badge text-bg-{}" title="{}">{}</span>',
        _GRADE_COLOURS.get(grade, "secondary"),
        dict(Grade.choices).get(grade, grade),
        grade,
    )


@register.filter
def flag_badge(status):
    if not status:
        return DASH
    return format_html(
        '<span class="badge text-bg-{}">{}</span>',
        _FLAG_COLOURS.get(status, "secondary"),
        dict(FlagStatus.choices).get(status, status),
    )


# Charts ------------------------------------------------------------------------------------------

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 84, 30, 16, 36


def _scale(low, high):
    """Axis bounds and three gridline values for a range of values."""
    if low == high:
        low, high = low - abs(low or Decimal(1)) / 2, high + abs(high or Decimal(1)) / 2
    low = min(low, Decimal(0)) if low >= 0 else low
    span = high - low
    return low, high, [low + span * Decimal(step) / 4 for step in range(5)]


@register.simple_tag
def trend_chart(points, kind="money", title="", target=None):
    """An inline SVG line chart of [(period code, value or None)] (see the module)."""
    points = list(points or [])
    values = [_decimal(value) for _label, value in points]
    known = [value for value in values if value is not None]
    label = title or _("Trend")
    if not known:
        return format_html('<p class="text-body-secondary small">{}</p>', _("No figures to chart yet."))
    target_value = _decimal(target)
    low, high, ticks = _scale(
        min(known + ([target_value] if target_value is not None else [])),
        max(known + ([target_value] if target_value is not None else [])),
    )
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    axis_kind = "axis-money" if kind == "money" else kind
    step = plot_w / max(len(points) - 1, 1)

    def x(index):
        return LEFT + (index * step if len(points) > 1 else plot_w / 2)

    def y(value):
        return TOP + plot_h - float((value - low) / (high - low)) * plot_h

    segments, current = [], []
    for index, value in enumerate(values):
        if value is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append(f"{x(index):.1f},{y(value):.1f}")
    if current:
        segments.append(current)
    grid = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" class="grid"/><text x="{}" y="{}" class="axis" '
        'text-anchor="end">{}</text>',
        (
            (LEFT, WIDTH - RIGHT, f"{y(t):.1f}", f"{y(t):.1f}", LEFT - 6, f"{y(t) + 4:.1f}", format_kind(t, axis_kind))
            for t in ticks
        ),
    )
    every = max(1, -(-len(points) // 7))  # at most 7 labels on the axis
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" class="axis" text-anchor="middle">{}</text>',
        ((f"{x(i):.1f}", HEIGHT - BOTTOM + 16, code) for i, (code, _v) in enumerate(points) if i % every == 0),
    )
    lines = format_html_join("", '<polyline points="{}" class="line"/>', ((" ".join(seg),) for seg in segments))
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="2.5" class="dot"><title>{}: {}</title></circle>',
        (
            (f"{x(i):.1f}", f"{y(v):.1f}", points[i][0], format_kind(v, kind))
            for i, v in enumerate(values)
            if v is not None
        ),
    )
    reference = ""
    if target_value is not None:
        reference = format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" class="target"/>',
            LEFT,
            WIDTH - RIGHT,
            f"{y(target_value):.1f}",
            f"{y(target_value):.1f}",
        )
    table = format_html_join(
        "", "<tr><th scope='row'>{}</th><td>{}</td></tr>", ((code, format_kind(v, kind)) for code, v in points)
    )
    return format_html(
        '<figure class="trend-chart mb-3"><svg viewBox="0 0 {w} {h}" role="img" aria-label="{label}" '
        'class="w-100" style="max-height:{h}px">'
        "<style>.grid{{stroke:#dee2e6;stroke-width:1}}.axis{{font-size:11px;fill:#6c757d}}"
        ".line{{fill:none;stroke:#0d6efd;stroke-width:2}}.dot{{fill:#0d6efd}}"
        ".target{{stroke:#dc3545;stroke-width:1.5;stroke-dasharray:6 4}}</style>"
        "{grid}{reference}{lines}{dots}{labels}</svg>"
        '<figcaption class="small text-body-secondary">{label}</figcaption>'
        '<details class="small"><summary>{figures}</summary><table class="table table-sm w-auto">{table}</table>'
        "</details></figure>",
        w=WIDTH,
        h=HEIGHT,
        label=label,
        grid=grid,
        reference=reference,
        lines=lines,
        dots=dots,
        labels=labels,
        figures=_("Figures"),
        table=table,
    )
