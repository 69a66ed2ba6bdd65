"""Forms of the partner portal's training pages."""

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class SessionChoiceField(forms.ModelChoiceField):
    """A session shown with its date, place and free seats (annotated as `seats_left`)."""

    def label_from_instance(self, session):
        starts = formats.date_format(timezone.localtime(session.starts_at), "SHORT_DATETIME_FORMAT")
        free = getattr(session, "seats_left", None)
        if free is None:
            return f"{starts} · {session.location}"
        if free <= 0:
            seats = _("full")
        else:
            seats = ngettext("%(count)d seat free", "%(count)d seats free", free) % {"count": free}
        return f"{starts} · {session.location} · {seats}"


class PortalEnrolForm(forms.Form):
    """Who (one of the partner's own people) and, for a classroom or webinar course, which
    session. The choices are the only valid answers: another partner's person is not one."""

    contact = forms.ModelChoiceField(
        label=_("Person"),
        queryset=None,
        empty_label=_("Choose a person"),
        error_messages={"invalid_choice": _("Choose one of your organisation's people.")},
    )
    session = SessionChoiceField(
        label=_("Session"),
        queryset=None,
        required=False,
        empty_label=_("Choose a session"),
        error_messages={"invalid_choice": _("Choose one of the upcoming sessions of this course.")},
    )

    def __init__(self, *args, contacts, sessions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = contacts
        if sessions is None:
            del self.fields["session"]
        else:
            self.fields["session"].queryset = sessions
            self.fields["session"].required = True
