"""The staff home page and the partner portal's dashboard are made of panels that each app
registers in its AppConfig.ready().

`prm` knows no business app: apps plug their panels in here, in the order they register. A
portal panel (agreements, targets, scorecard, statements, MDF, training…) receives the signed-in
partner user and reads its rows through `visible_to(user)` like every portal page.
"""

_panels = {"staff": [], "portal": []}


def register_panel(panel, *, page="staff"):
    """`panel(user)` returns a dict with `template` and its context, or None to stay hidden.
    `page` is "staff" (the staff home page) or "portal" (the partner portal's dashboard)."""
    if panel not in _panels[page]:
        _panels[page].append(panel)


def _render(page, user):
    return [data for data in (panel(user) for panel in _panels[page]) if data]


def staff_home_panels(*, user):
    return _render("staff", user)


def portal_home_panels(*, user):
    return _render("portal", user)


# Sections of the staff partner 360° page (agreements, training, incentives, scorecards…).
_partner_sections = []


def register_partner_section(section):
    """`section(user, partner)` returns a dict with `template` (rendered with `section` in its
    context) and its data, or None to stay hidden. Sections appear in registration order, below
    the registry's own profile, network and contacts, and must read with a fixed number of
    queries (the partner page's query count is pinned by a test)."""
    if section not in _partner_sections:
        _partner_sections.append(section)


def partner_sections(*, user, partner):
    return [data for data in (section(user, partner) for section in _partner_sections) if data]
