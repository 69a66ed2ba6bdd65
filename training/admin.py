"""The admin shows every training table and never bypasses the services. A course's changes are
saved through course_update (checked and recorded); tier requirements, materials,
sessions, training records and reminders are shown, not edited: a record's status moves only
through the services (start, result, withdraw; expiry by the daily job), from the staff pages,
the portal and the API. Material files go out through the checked download view."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from prm.admin import ReadOnlyAdminMixin

from .forms import COURSE_FIELDS
from .models import CertificationReminder, Course, CourseMaterial, TierRequirement, TrainingRecord, TrainingSession
from .services import course_update


def _download_link(material):
    if not material.file:
        return format_html('<a href="{}" rel="noopener noreferrer">{}</a>', material.url, material.url)
    # The file goes out through the checked download view, never as a static media URL.
    url = reverse("training:material-download", args=[material.pk])
    return format_html('<a href="{}">{}</a>', url, material.original_name)


class TierRequirementInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TierRequirement
    fields = ["tier", "certified_people"]
    readonly_fields = fields
    extra = 0


class MaterialInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CourseMaterial
    fields = ["title", "kind", "download", "min_tier", "uploaded_by", "created_at"]
    readonly_fields = fields
    extra = 0

    @admin.display(description=_("file or link"))
    def download(self, material):
        return _download_link(material)


class SessionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TrainingSession
    fields = ["starts_at", "ends_at", "location", "capacity", "is_cancelled"]
    readonly_fields = fields
    extra = 0


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "course_type", "delivery", "level", "product_line", "pass_mark", "is_active"]
    list_filter = ["course_type", "delivery", "level", "is_active"]
    search_fields = ["code", "title"]
    list_select_related = ["product_line"]
    fields = COURSE_FIELDS
    inlines = [TierRequirementInline, MaterialInline, SessionInline]
    actions = None

    def has_add_permission(self, request):
        # New courses are made in the staff pages (with their tier requirements) or the API.
        return False

    def has_delete_permission(self, request, obj=None):
        # A course with records stays; an old one is made inactive.
        return False

    def save_model(self, request, obj, form, change):
        changed = {name: form.cleaned_data[name] for name in COURSE_FIELDS if name in form.changed_data}
        if not changed:
            return
        try:
            course_update(course=Course.objects.get(pk=obj.pk), by=request.user, **changed)
        except (ValidationError, PermissionDenied) as error:
            text = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            self.message_user(request, text, messages.ERROR)


@admin.register(TierRequirement)
class TierRequirementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["course", "tier", "certified_people"]
    list_filter = ["tier"]
    search_fields = ["course__code", "course__title"]
    list_select_related = ["course", "tier"]


@admin.register(CourseMaterial)
class CourseMaterialAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["title", "course", "kind", "min_tier", "size", "uploaded_by", "created_at"]
    list_filter = ["kind", "min_tier"]
    search_fields = ["title", "original_name", "course__code"]
    list_select_related = ["course", "min_tier", "uploaded_by"]
    fields = ["course", "title", "kind", "download", "content_type", "size", "min_tier", "uploaded_by", "created_at"]
    readonly_fields = fields

    @admin.display(description=_("file or link"))
    def download(self, material):
        return _download_link(material)


@admin.register(TrainingSession)
class TrainingSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["course", "starts_at", "ends_at", "location", "capacity", "is_cancelled"]
    list_filter = ["is_cancelled"]
    search_fields = ["course__code", "course__title", "location"]
    list_select_related = ["course"]
    date_hierarchy = "starts_at"


@admin.register(TrainingRecord)
class TrainingRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "contact",
        "partner",
        "course",
        "status",
        "score",
        "completed_on",
        "expires_on",
        "certificate_number",
    ]
    list_filter = ["status", "source"]
    search_fields = ["contact__name", "contact__email", "contact__partner__code", "course__code", "certificate_number"]
    list_select_related = ["contact__partner", "course"]
    date_hierarchy = "completed_on"

    @admin.display(description=_("partner"), ordering="contact__partner__name")
    def partner(self, record):
        return record.contact.partner


@admin.register(CertificationReminder)
class CertificationReminderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["record", "window_days", "sent_at"]
    list_filter = ["window_days"]
    search_fields = ["record__contact__name", "record__certificate_number"]
    list_select_related = ["record__contact", "record__course"]
