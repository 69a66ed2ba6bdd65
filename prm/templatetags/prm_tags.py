"""Template helpers shared by every page: Bootstrap form fields, sortable headers, query strings."""

from django import forms, template
from django.utils.html import format_html

from ..money import format_money
from ..roles import can_write_as_staff, is_channel_admin
from ..tenancy import is_portal_user

register = template.Library()


def _widget_class(widget):
    if isinstance(widget, (forms.CheckboxInput, forms.RadioSelect, forms.CheckboxSelectMultiple)):
        return "form-check-input"
    if isinstance(widget, (forms.Select, forms.SelectMultiple)):
        return "form-select"
    return "form-control"


@register.simple_tag
def field_widget(field, size=""):
    """Render a bound field's widget with Bootstrap classes and its error state."""
    css = _widget_class(field.field.widget)
    if size and css != "form-check-input":
        css += f" {css}-{size}"
    if field.errors:
        css += " is-invalid"
    attrs = {"class": css}
    if field.errors:
        attrs["aria-describedby"] = f"{field.auto_id}_errors"
    return field.as_widget(attrs=attrs)


@register.filter
def is_checkbox(field):
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (None removes one)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = value
    return "?" + query.urlencode() if query else "?"


@register.simple_tag(takes_context=True)
def sort_header(context, name, label):
    """A column header that sorts by `name`, toggling direction, and shows the current order."""
    current = context.get("current_sort", "")
    ascending = current == name
    descending = current == f"-{name}"
    target = f"-{name}" if ascending else name
    url = query_with(context, sort=target, page=None)
    icon = " ▲" if ascending else " ▼" if descending else ""
    aria = "ascending" if ascending else "descending" if descending else "none"
    return format_html('<a href="{}" class="sort-link" aria-sort="{}">{}{}</a>', url, aria, label, icon)


@register.filter
def money(value, currency=None):
    """{{ amount|money }} or {{ amount|money:"USD" }}: grouped, two decimals, with the currency."""
    return format_money(value, currency)


@register.filter
def can_write(user):
    """Whether this staff user's role may change data (channel admin or manager)."""
    return can_write_as_staff(user)


@register.filter
def status_badge(status):
    colours = {
        "prospect": "secondary",
        "onboarding": "info",
        "active": "success",
        "suspended": "warning",
        "terminated": "dark",
        # agreements
        "draft": "secondary",
        "pending_approval": "warning",
        "expired": "secondary",
        # training records
        "enrolled": "info",
        "in_progress": "primary",
        "passed": "success",
        "failed": "danger",
        "withdrawn": "secondary",
        # rebate statements and MDF requests
        "calculated": "info",
        "approved": "primary",
        "paid": "success",
        "cancelled": "dark",
        "submitted": "warning",
        "rejected": "danger",
        "claimed": "info",
    }
    return colours.get(str(status), "secondary")


@register.filter
def total_minutes(duration):
    """A timedelta as whole minutes (rounded up), for messages like "locked for 30 minutes"."""
    if not duration:
        return 0
    return -(-int(duration.total_seconds()) // 60)


@register.filter(name="is_channel_admin")
def is_channel_admin_filter(user):
    """Whether this user is a channel admin (sees the security log, manages API keys)."""
    return is_channel_admin(user)


@register.filter(name="is_portal_user")
def is_portal_user_filter(user):
    """Whether this user is a partner's user, whose home is the partner portal."""
    return is_portal_user(user)
