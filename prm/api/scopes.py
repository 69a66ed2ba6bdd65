"""What an API key may do: one read and one write scope per business area ("partners:read",
"partners:write"), and `<area>:write` implies `<area>:read`.

`prm` knows no business app: each app registers its area in its AppConfig.ready(), and each of
its viewsets names the area it belongs to (`api_area`, see prm.api.permissions).
"""

from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

READ = "read"
WRITE = "write"

_areas = {}


def register_area(name, label):
    """Make `<name>:read` and `<name>:write` valid scopes; `label` names the area in the UI."""
    _areas[name] = label


def areas():
    """{area: label}, in the order the apps registered them."""
    return dict(_areas)


def scope(area, level):
    return f"{area}:{level}"


def scope_choices():
    """[(scope, label)] for every registered area, read before write."""
    return [
        choice
        for area, label in _areas.items()
        for choice in (
            (scope(area, READ), format_lazy("{}: {}", label, _("read"))),
            (scope(area, WRITE), format_lazy("{}: {}", label, _("read and write"))),
        )
    ]


def scopes_clean(scopes):
    """The scopes as a sorted list without repeats, a read scope dropped when its write scope is
    there. Raises a ValidationError on `scopes` naming each scope that is not a registered one."""
    if isinstance(scopes, str):
        scopes = scopes.replace(",", " ").split()
    wanted = {str(value).strip() for value in scopes or ()}
    valid = {value for value, _label in scope_choices()}
    unknown = sorted(wanted - valid)
    if unknown:
        raise ValidationError(
            {
                "scopes": [
                    gettext("“%(scope)s” is not a scope; use <area>:read or <area>:write with one of: %(areas)s.")
                    % {"scope": value, "areas": ", ".join(_areas)}
                    for value in unknown
                ]
            }
        )
    if not wanted:
        raise ValidationError({"scopes": gettext("Choose at least one scope.")})
    implied = {scope(value.partition(":")[0], READ) for value in wanted if value.endswith(f":{WRITE}")}
    return sorted(wanted - implied)


def scope_grants(scopes, area, *, write):
    """Whether `scopes` allow reading (or, with write=True, changing) the data of `area`."""
    return scope(area, WRITE) in scopes or (not write and scope(area, READ) in scopes)
