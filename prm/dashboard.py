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
