"""The performance section of the staff partner 360° page and the performance panel of the
staff home page, each read in a fixed number of queries (performance.selectors)."""

from . import selectors


def partner_performance_section(user, partner):
    """The partner's latest scorecard (score, grade, rank in its region and in its tier), its
    last 12 months' scores and its latest month's KPI values: two queries. Staff only, like
    the page it sits on; hidden for anyone else."""
    if not (user.is_authenticated and user.is_staff):
        return None
    return {
        "template": "performance/_partner_section.html",
        "partner": partner,
        **selectors.partner_performance(partner),
    }


def performance_home_panel(user):
    """Unresolved region flags (their number and the worst few) and the grade distribution of
    the latest computed month: four queries. Staff only; hidden until a month has been computed
    or a flag raised."""
    if not (user.is_authenticated and user.is_staff):
        return None
    overview = selectors.flags_overview()
    if overview["month"] is None and not overview["flag_count"]:
        return None
    return {"template": "performance/_home_panel.html", **overview}
