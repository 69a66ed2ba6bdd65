from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from partners.models import PartnerContact, PartnerTier
from prm.api.serializers import RowSerializer, VendorOnlyFieldsMixin

from ..choices import CourseType, MaterialKind, RecordStatus
from ..models import Course, CourseMaterial, TrainingRecord, TrainingSession


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object the caller may see (`visible_to`): another partner's reads as not found."""

    def get_queryset(self):
        request = self.context.get("request")
        queryset = super().get_queryset()
        return queryset.visible_to(request.user) if request is not None else queryset.none()


class TierRequirementSerializer(RowSerializer):
    """A tier requires `certified_people` people holding a valid certification of the course."""

    tier = serializers.PrimaryKeyRelatedField(queryset=PartnerTier.objects.all())
    certified_people = serializers.IntegerField(min_value=1, max_value=32767)


class CourseSerializer(serializers.ModelSerializer):
    type = serializers.ChoiceField(source="course_type", choices=CourseType.choices)
    tier_requirements = TierRequirementSerializer(
        source="requirements",
        many=True,
        required=False,
        help_text=_(
            "How many certified people each tier needs. On a write the list replaces the course's requirements: "
            "tiers left out no longer require the course."
        ),
    )

    class Meta:
        model = Course
        fields = [
            "id",
            "code",
            "title",
            "type",
            "product_line",
            "level",
            "description",
            "duration_hours",
            "delivery",
            "pass_mark",
            "validity_months",
            "tier_requirements",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            "validity_months": {"help_text": _("Empty: the certification never expires.")},
            "pass_mark": {"help_text": _("The lowest score (0–100) that passes.")},
        }

    def validate_tier_requirements(self, rows):
        seen = set()
        for row in rows:
            if row["tier"].pk in seen:
                raise serializers.ValidationError(_("%(tier)s is listed twice.") % {"tier": row["tier"]})
            seen.add(row["tier"].pk)
        return rows


class TrainingSessionSerializer(serializers.ModelSerializer):
    enrolled = serializers.IntegerField(
        read_only=True, help_text=_("People holding a seat: everyone enrolled in the session who did not withdraw.")
    )
    free_seats = serializers.IntegerField(read_only=True)

    class Meta:
        model = TrainingSession
        fields = [
            "id",
            "course",
            "starts_at",
            "ends_at",
            "location",
            "capacity",
            "is_cancelled",
            "enrolled",
            "free_seats",
            "created_at",
        ]
        read_only_fields = ["is_cancelled", "created_at"]
        extra_kwargs = {"course": {"help_text": _("Set on create; a session never moves to another course.")}}

    def validate_course(self, course):
        if self.instance is not None and course != self.instance.course:
            raise serializers.ValidationError(_("A session cannot move to another course."))
        return course


class TrainingRecordSerializer(VendorOnlyFieldsMixin, serializers.ModelSerializer):
    contact = VisibleRelatedField(
        queryset=PartnerContact.objects.all(), help_text=_("The person (a contact of a partner).")
    )
    contact_name = serializers.CharField(source="contact.name", read_only=True)
    partner = serializers.PrimaryKeyRelatedField(
        source="contact.partner", read_only=True, help_text=_("The person's partner.")
    )
    course_code = serializers.CharField(source="course.code", read_only=True)
    session = serializers.PrimaryKeyRelatedField(
        queryset=TrainingSession.objects.all(),
        allow_null=True,
        required=False,
        help_text=_("Needed for a classroom or webinar course: a session of that course that has not started."),
    )

    class Meta:
        model = TrainingRecord
        fields = [
            "id",
            "contact",
            "contact_name",
            "partner",
            "course",
            "course_code",
            "session",
            "status",
            "score",
            "completed_on",
            "expires_on",
            "certificate_number",
            "source",
            "enrolled_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "status",
            "score",
            "completed_on",
            "expires_on",
            "certificate_number",
            "source",
            "enrolled_by",
            "created_at",
            "updated_at",
        ]
        # Which vendor employee enrolled someone stays with the vendor.
        vendor_only_fields = ["enrolled_by"]
        # One open attempt per person and course is the service's rule, with its own clear message.
        validators = []


class RecordResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[(RecordStatus.PASSED, RecordStatus.PASSED.label), (RecordStatus.FAILED, RecordStatus.FAILED.label)]
    )
    score = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
        allow_null=True,
        help_text=_("0–100. A pass needs a score at or above the course's pass mark; a fail, one below it."),
    )
    completed_on = serializers.DateField(
        required=False, allow_null=True, help_text=_("Needed for a pass; the certification's expiry counts from it.")
    )


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text=_("The row number as the file shows it (the header is row 1)."))
    column = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


class ImportReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    total = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    errors = ImportErrorSerializer(many=True)


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text=_(
            "CSV or Excel (.xlsx) with the columns partner_code, contact_email, course_code, session_starts "
            "(optional, YYYY-MM-DD HH:MM), status, score, completed_on, certificate_number (optional)."
        )
    )


class CourseMaterialSerializer(serializers.ModelSerializer):
    """A manual, deck or video link of a course. A file is uploaded as multipart `file` and read
    back from the material's `download` action; a link is its `url`."""

    course = VisibleRelatedField(queryset=Course.objects.all())
    kind = serializers.ChoiceField(choices=MaterialKind.choices)
    file = serializers.FileField(
        write_only=True,
        required=False,
        help_text=_("With kind file: PDF, PNG, JPEG, Word, Excel or PowerPoint, checked by its name and content."),
    )
    file_name = serializers.CharField(source="original_name", read_only=True)
    min_tier = serializers.PrimaryKeyRelatedField(
        queryset=PartnerTier.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Partners of this tier or a higher one see it; empty: every partner."),
    )

    class Meta:
        model = CourseMaterial
        fields = [
            "id",
            "course",
            "title",
            "kind",
            "url",
            "file",
            "file_name",
            "content_type",
            "size",
            "min_tier",
            "created_at",
        ]
        read_only_fields = ["content_type", "size", "created_at"]
        extra_kwargs = {"url": {"help_text": _("With kind link: an http(s) address.")}}
