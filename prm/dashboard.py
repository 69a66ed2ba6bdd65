"""The staff home page is made of panels that each app registers in its AppConfig.ready().

`prm` knows no business app: apps plug their panels in here, in the order they register.
"""

_panels = []


def register_panel(panel):
    """`panel(user)` returns a dict with `template` and its context, or None to stay hidden."""
    if panel not in _panels:
        _panels.append(panel)


def staff_home_panels(*, user):
    return [data for data in (panel(user) for panel in _panels) if data]
