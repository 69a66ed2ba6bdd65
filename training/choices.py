from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CourseType(models.TextChoices):
    PRODUCT = "product", _("Product")
    SALES = "sales", _("Sales skills")
    TECHNICAL = "technical", _("Technical / after-sales")


class CourseLevel(models.TextChoices):
    BASIC = "basic", _("Basic")
    INTERMEDIATE = "intermediate", _("Intermediate")
    ADVANCED = "advanced", _("Advanced")


class Delivery(models.TextChoices):
    ONLINE = "online", _("Online")
    CLASSROOM = "classroom", _("Classroom")
    WEBINAR = "webinar", _("Webinar")


class MaterialKind(models.TextChoices):
    FILE = "file", _("File")
    LINK = "link", _("Link")


class RecordStatus(models.TextChoices):
    ENROLLED = "enrolled", _("Enrolled")
    IN_PROGRESS = "in_progress", _("In progress")
    PASSED = "passed", _("Passed")
    FAILED = "failed", pgettext_lazy("training result", "Failed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", pgettext_lazy("certification", "Expired")


# The legal moves. EXPIRED is set only by the daily job, on a pass whose certification lapsed.
RECORD_TRANSITIONS = {
    RecordStatus.ENROLLED: (RecordStatus.IN_PROGRESS, RecordStatus.PASSED, RecordStatus.FAILED, RecordStatus.WITHDRAWN),
    RecordStatus.IN_PROGRESS: (RecordStatus.PASSED, RecordStatus.FAILED, RecordStatus.WITHDRAWN),
    RecordStatus.PASSED: (RecordStatus.EXPIRED,),
    RecordStatus.FAILED: (),
    RecordStatus.WITHDRAWN: (),
    RecordStatus.EXPIRED: (),
}


class RecordSource(models.TextChoices):
    STAFF = "staff", _("Staff")
    PORTAL = "portal", _("Portal")
    IMPORT = "import", _("Import")
    API = "api", _("API")


class ReminderWindow(models.IntegerChoices):
    DAYS_60 = 60, _("60 days")
    DAYS_30 = 30, _("30 days")
