"""The isolation harness: every route, every method, every outside role, against two partners.

Routes are discovered from the URLconf (which includes the API router), never listed by hand.
Each route must be classified below; a route the harness cannot classify fails the test, so a
page or endpoint added later is covered as soon as it exists.

For every route × method × role it proves that no foreign object is returned, listed or counted
(the other partner's unique markers never appear in a response, an API count never includes its
rows, a request for its object never succeeds) and, at the end, that nothing foreign changed and
no field a role may not set (tier, status, owner, code, privileges…) changed on the own partner.
"""

import json
import re
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch

from agreements.models import Agreement, AgreementDocument, AgreementTarget, RegionTarget
from incentives.models import (
    MdfBudget,
    MdfProof,
    MdfRequest,
    OverridePolicy,
    RebateBracket,
    RebatePolicy,
    RebateStatement,
    StatementLine,
)
from integrations.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from partners.choices import PartnerStatus
from partners.models import ApiKey, ManagerRegion, Partner, PartnerContact, PartnerTier, Region
from partners.services import api_key_create
from performance.models import (
    CustomerSatisfaction,
    RegionFlag,
    RegionScorecard,
    Scorecard,
    ScorecardTemplate,
)
from prm.models import AuditEntry, JobRun, Notification, Tombstone
from prm.roles import Role
from prm.tenancy import TenantQuerySet
from sales.models import Product, ProductLine, SalesLine
from tests.factories import (
    PDF_BYTES,
    AgreementFactory,
    AgreementTargetFactory,
    ChannelAdminFactory,
    ClassroomCourseFactory,
    CourseMaterialFactory,
    DistributorFactory,
    MdfBudgetFactory,
    MdfRequestFactory,
    OverridePolicyFactory,
    PartnerContactFactory,
    PartnerFactory,
    PartnerTierFactory,
    ProductLineFactory,
    RebatePolicyFactory,
    RebateStatementFactory,
    RegionFactory,
    SalesLineFactory,
    StaffFactory,
    StatementLineFactory,
    TrainingRecordFactory,
    TrainingSessionFactory,
    UserFactory,
)
from training.models import Course, CourseMaterial, TrainingRecord, TrainingSession

METHODS = ("get", "post", "put", "patch", "delete")

# What each route's `pk` names. A new route with a `pk` must be added here.
PK_MODELS = {
    "partners:partner-detail": Partner,
    "partners:partner-edit": Partner,
    "partners:partner-status": Partner,
    "partners:partner-move": Partner,
    "partners:contact-create": Partner,
    "partners:contact-edit": PartnerContact,
    "partners:contact-delete": PartnerContact,
    "partners:region-edit": Region,
    "partners:tier-edit": PartnerTier,
    "portal:user-resend": PartnerContact,
    "portal:user-deactivate": PartnerContact,
    "portal:user-reactivate": PartnerContact,
    "partners:api-key-revoke": ApiKey,
    "partner-detail": Partner,
    "partner-move": Partner,
    "partner-transition": Partner,
    "partner-contact-detail": PartnerContact,
    "region-detail": Region,
    "tier-detail": PartnerTier,
    "notification-open": Notification,
    "job-run-status": JobRun,
    "portal-sales:run-status": JobRun,
    "sales-line-detail": SalesLine,
    "incentives:statement-detail": RebateStatement,
    "incentives:statement-approve": RebateStatement,
    "incentives:statement-pay": RebateStatement,
    "incentives:statement-cancel": RebateStatement,
    "incentives:statement-adjust": RebateStatement,
    "incentives:policy-detail": RebatePolicy,
    "incentives:policy-edit": RebatePolicy,
    "incentives:policy-assign": RebatePolicy,
    "incentives:policy-unassign": RebatePolicy,
    "incentives:override-edit": OverridePolicy,
    "incentives:mdf-request-detail": MdfRequest,
    "incentives:mdf-request-approve": MdfRequest,
    "incentives:mdf-request-reject": MdfRequest,
    "incentives:mdf-claim-return": MdfRequest,
    "incentives:mdf-request-pay": MdfRequest,
    "incentives:mdf-proof-download": MdfProof,
    "portal-incentives:statement-detail": RebateStatement,
    "portal-incentives:statement-print": RebateStatement,
    "portal-incentives:statement-pdf": RebateStatement,
    "portal-incentives:mdf-request-detail": MdfRequest,
    "portal-incentives:mdf-request-edit": MdfRequest,
    "portal-incentives:mdf-request-submit": MdfRequest,
    "portal-incentives:mdf-request-cancel": MdfRequest,
    "portal-incentives:mdf-request-claim": MdfRequest,
    "portal-incentives:mdf-proof-upload": MdfRequest,
    "portal-incentives:mdf-proof-download": MdfProof,
    "portal-incentives:mdf-proof-delete": MdfProof,
    "rebate-policy-detail": RebatePolicy,
    "rebate-policy-preview": RebatePolicy,
    "rebate-policy-assign": RebatePolicy,
    "rebate-policy-unassign": RebatePolicy,
    "override-policy-detail": OverridePolicy,
    "rebate-statement-detail": RebateStatement,
    "rebate-statement-approve": RebateStatement,
    "rebate-statement-mark-paid": RebateStatement,
    "rebate-statement-cancel": RebateStatement,
    "rebate-statement-adjust": RebateStatement,
    "rebate-statement-recalculate": RebateStatement,
    "rebate-statement-run": JobRun,
    "mdf-budget-detail": MdfBudget,
    "mdf-request-detail": MdfRequest,
    "mdf-request-submit": MdfRequest,
    "mdf-request-approve": MdfRequest,
    "mdf-request-reject": MdfRequest,
    "mdf-request-cancel": MdfRequest,
    "mdf-request-claim": MdfRequest,
    "mdf-request-return-claim": MdfRequest,
    "mdf-request-mark-paid": MdfRequest,
    "mdf-request-proof-download": MdfRequest,
    "product-line-detail": ProductLine,
    "product-detail": Product,
    "agreement-detail": Agreement,
    "agreement-submit": Agreement,
    "agreement-approve": Agreement,
    "agreement-reject": Agreement,
    "agreement-terminate": Agreement,
    "agreement-renew": Agreement,
    "agreement-amend": Agreement,
    "agreement-acknowledge": Agreement,
    "agreement-targets": Agreement,
    "agreement-documents": Agreement,
    "agreement-target-detail": AgreementTarget,
    "agreement-document-detail": AgreementDocument,
    "agreement-document-download": AgreementDocument,
    "region-target-detail": RegionTarget,
    "region-target-preview": RegionTarget,
    "region-target-decompose": RegionTarget,
    "portal-agreements:detail": Agreement,
    "portal-agreements:acknowledge": Agreement,
    "portal-agreements:document-download": AgreementDocument,
    "sales:product-line-edit": ProductLine,
    "sales:product-edit": Product,
    "agreements:agreement-detail": Agreement,
    "agreements:agreement-edit": Agreement,
    "agreements:agreement-submit": Agreement,
    "agreements:agreement-approve": Agreement,
    "agreements:agreement-reject": Agreement,
    "agreements:agreement-terminate": Agreement,
    "agreements:agreement-renew": Agreement,
    "agreements:agreement-amend": Agreement,
    "agreements:agreement-targets": Agreement,
    "agreements:target-delete": AgreementTarget,
    "agreements:document-upload": Agreement,
    "agreements:document-download": AgreementDocument,
    "agreements:document-delete": AgreementDocument,
    "agreements:region-target-detail": RegionTarget,
    "course-detail": Course,
    "training-session-detail": TrainingSession,
    "training-session-cancel": TrainingSession,
    "training-record-detail": TrainingRecord,
    "training-record-start": TrainingRecord,
    "training-record-result": TrainingRecord,
    "training-record-withdraw": TrainingRecord,
    "training-record-certificate": TrainingRecord,
    "portal-training:course": Course,
    "portal-training:enrol": Course,
    "portal-training:material": CourseMaterial,
    "portal-training:certificate": TrainingRecord,
    "training:course-detail": Course,
    "training:course-edit": Course,
    "training:material-add": Course,
    "training:session-list": Course,
    "training:session-create": Course,
    "training:enrol": Course,
    "training:material-download": CourseMaterial,
    "training:material-delete": CourseMaterial,
    "training:session-edit": TrainingSession,
    "training:session-cancel": TrainingSession,
    "training:record-start": TrainingRecord,
    "training:record-result": TrainingRecord,
    "training:record-withdraw": TrainingRecord,
    "training:certificate": TrainingRecord,
    "performance:flag-detail": RegionFlag,
    "performance:flag-acknowledge": RegionFlag,
    "performance:flag-plan": RegionFlag,
    "performance:flag-resolve": RegionFlag,
    "performance:template-edit": ScorecardTemplate,
    "performance:region-detail": Region,
    "scorecard-detail": Scorecard,
    "region-scorecard-detail": RegionScorecard,
    "region-flag-detail": RegionFlag,
    "region-flag-acknowledge": RegionFlag,
    "region-flag-plan": RegionFlag,
    "region-flag-resolve": RegionFlag,
    "scorecard-template-detail": ScorecardTemplate,
    "scorecard-run-detail": JobRun,
    "customer-satisfaction-detail": CustomerSatisfaction,
    "deletion-detail": Tombstone,
    "partner-contact-deactivate-login": PartnerContact,
    "partner-contact-reactivate-login": PartnerContact,
    "partner-contact-resend-invitation": PartnerContact,
    "manager-region-detail": ManagerRegion,
    "course-material-detail": CourseMaterial,
    "course-material-download": CourseMaterial,
    "mdf-request-proof-remove": MdfRequest,
    "mdf-request-proof-upload": MdfRequest,
    "history-entry-detail": AuditEntry,
    "webhook-endpoint-detail": WebhookEndpoint,
    "webhook-endpoint-rotate-secret": WebhookEndpoint,
    "webhook-endpoint-enable": WebhookEndpoint,
    "webhook-endpoint-disable": WebhookEndpoint,
    "webhook-endpoint-test": WebhookEndpoint,
    "webhook-delivery-detail": WebhookDelivery,
    "webhook-delivery-redeliver": WebhookDelivery,
    "webhook-event-detail": WebhookEvent,
    "integrations:endpoint-detail": WebhookEndpoint,
    "integrations:endpoint-edit": WebhookEndpoint,
    "integrations:endpoint-delete": WebhookEndpoint,
    "integrations:endpoint-enable": WebhookEndpoint,
    "integrations:endpoint-disable": WebhookEndpoint,
    "integrations:endpoint-rotate-secret": WebhookEndpoint,
    "integrations:endpoint-test": WebhookEndpoint,
    "integrations:delivery-detail": WebhookDelivery,
    "integrations:delivery-redeliver": WebhookDelivery,
}

# Route names outside any namespace that are not API router routes.
PLAIN_ROUTES = {
    "home",
    "healthz",
    "login",
    "logout",
    "set_language",
    "account",
    "password-change",
    "security-log",
    "notifications",
    "notification-open",
    "job-run-status",
    "api-root",
    "api-schema",
    "api-docs",
    "api-redoc",
}

# Pages no outside role may open at all, whatever object they name: managing API keys.
STAFF_ONLY_ROUTE_PREFIXES = ("partners:api-key-", "integrations:")

# API router actions beyond list/detail, by the basename they start with.
API_ACTION_PREFIXES = (
    "partner-",
    "region-",
    "tier-",
    "product-",
    "agreement-",
    "course-",
    "training-",
    "rebate-",
    "override-",
    "mdf-",
    "scorecard-",
    "region-",
    "flag-rule-",
    "customer-satisfaction-",
    "sales-line-",
    "webhook-",
    "deletion-",
)

# Unnamed routes, by their pattern: what to request for each.
UNNAMED_ROUTES = {
    r"admin/(?P<url>.*)$": "/admin/no-such-page/",
    r"^api/": "/api/no-such-endpoint/",
}

# Fields no outside role may set, tried on every write.
FORBIDDEN_WRITE = {
    "status": PartnerStatus.TERMINATED,
    "owner": None,  # filled with a staff user's id
    "tier": None,  # filled with the top tier's id
    "code": "HACKED-1",
    "name": "HACKED",
    "external_id": "HACKED",
    "credit_rating": "AAA",
    "is_staff": True,
    "is_superuser": True,
    "partner": None,  # filled with the foreign partner's id
    "parent": None,  # filled with the foreign partner's id
    "region": None,  # filled with another region's id
}


@dataclass
class Route:
    route: str
    name: str
    pattern: URLPattern


def discover_routes():
    def walk(patterns, prefix="", namespace=None):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = namespace
                if entry.namespace:
                    inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            else:
                name = entry.name or ""
                if name and namespace:
                    name = f"{namespace}:{name}"
                yield Route(prefix + str(entry.pattern), name, entry)

    return list(walk(get_resolver().url_patterns))


def route_params(route):
    regex = route.pattern.pattern.regex
    return sorted(set(regex.groupindex) | set(getattr(route.pattern.pattern, "converters", {})))


class Unclassified(Exception):
    pass


def admin_model(route):
    match = re.match(r"admin/(\w+)/(\w+)/", route.route)
    if not match:
        raise Unclassified(f"{route.route}: admin route without a model")
    return apps.get_model(match[1], match[2])


def build_url(route, world):
    """The URL to request for this route, aimed at the foreign partner's objects."""
    if not route.name:
        if route.route in UNNAMED_ROUTES:
            return UNNAMED_ROUTES[route.route]
        if route.route.endswith("<path:object_id>/") and route.route.startswith("admin/"):
            return f"/{route.route.replace('<path:object_id>', str(world.foreign_pk(admin_model(route))))}"
        raise Unclassified(f"unnamed route {route.route!r}")
    namespace = route.name.split(":", 1)[0] if ":" in route.name else ""
    known_api_action = any(route.name.startswith(prefix) for prefix in API_ACTION_PREFIXES)
    if (
        not namespace
        and route.name not in PLAIN_ROUTES
        and not route.name.endswith(("-list", "-detail"))
        and (not known_api_action)
    ):
        raise Unclassified(f"route {route.name!r} ({route.route}) is in no known area")
    kwargs = {}
    for param in route_params(route):
        if param == "pk":
            model = PK_MODELS.get(route.name)
            if model is None:
                raise Unclassified(f"{route.name}: which model does pk name? add it to PK_MODELS")
            kwargs["pk"] = world.foreign_pk(model)
        elif param == "proof_id":
            kwargs["proof_id"] = world.foreign_pk(MdfProof)
        elif param == "code" and route.name.startswith("flag-rule-"):
            kwargs["code"] = "score_below"
        elif param == "external_id":
            kwargs["external_id"] = world.foreign_external_id(route.name)
        elif param == "format":
            kwargs["format"] = "json"
        elif param == "id" and route.name.startswith("admin:"):
            kwargs["id"] = world.foreign_pk(admin_model(route))
        elif param == "object_id":
            if route.name.startswith("admin:view_on_site"):
                kwargs["object_id"] = world.foreign.pk
            else:
                kwargs["object_id"] = world.foreign_pk(admin_model(route))
        elif param == "content_type_id":
            kwargs["content_type_id"] = ContentType.objects.get_for_model(Partner).pk
        elif param == "app_label":
            kwargs["app_label"] = "partners"
        elif param in ("uidb64", "token"):
            kwargs[param] = world.foreign_token(param)
        else:
            raise Unclassified(f"{route.name}: the harness does not know the parameter {param!r}")
    try:
        return reverse(route.name, kwargs=kwargs)
    except NoReverseMatch as error:
        raise Unclassified(f"{route.name}: cannot build a URL ({error})") from error


class World:
    """Two distributors with sub-partners and contacts; we act from the own one (Alpha)."""

    def __init__(self):
        from django.contrib.auth.models import Group

        self.region = RegionFactory(code="ISO-R", name="Isolation Region")
        self.other_region = RegionFactory(code="ISO-S", name="Second Region")
        self.top_tier = PartnerTierFactory(name="Top Tier", rank=90)
        self.own = DistributorFactory(code="ALPHA-1", name="Alpha Distribution", region=self.region)
        self.own_sub = PartnerFactory(code="ALPHA-11", name="Alpha Sub Reseller", parent=self.own, region=self.region)
        self.foreign = DistributorFactory(
            code="ZETA-1",
            name="Zeta Secret Distribution",
            region=self.region,
            external_id="CRM-ZETA-SECRET",
            email="board@zeta-secret.example",
            phone="+86 999 0000 1111",
        )
        self.foreign_sub = PartnerFactory(
            code="ZETA-11", name="Zeta Hidden Reseller", parent=self.foreign, region=self.region
        )
        self.foreign_contact = PartnerContactFactory(
            partner=self.foreign,
            name="Zeta Insider",
            email="insider@zeta-secret.example",
            external_id="CRM-ZETA-INSIDER",
        )
        self.staff = StaffFactory(username="iso-staff")
        self.key_admin = ChannelAdminFactory(username="iso-key-admin")  # only a channel admin creates keys
        self.users = {}
        for key, partner, role in (
            ("own_admin", self.own, Role.PARTNER_ADMIN),
            ("own_user", self.own, Role.PARTNER_USER),
            ("foreign_admin", self.foreign, Role.PARTNER_ADMIN),
        ):
            user = UserFactory(username=f"iso-{key}", email=f"{key}@iso.example")
            user.groups.add(Group.objects.get(name=role))
            PartnerContactFactory(
                partner=partner,
                name=f"{key} person",
                email=f"{key}@iso.example",
                user=user,
                is_partner_admin=role == Role.PARTNER_ADMIN,
            )
            self.users[key] = user
        self.markers = [
            "Zeta Secret",
            "ZETA-1",
            "ZETA-11",
            "Zeta Hidden",
            "CRM-ZETA-SECRET",
            "zeta-secret.example",
            "Zeta Insider",
            "CRM-ZETA-INSIDER",
            "+86 999 0000 1111",
            "foreign_admin@iso.example",
        ]
        # A key of the foreign partner: its management pages stay out of reach and neither its
        # name nor its secret ever shows.
        self.foreign_key, plaintext = api_key_create(
            name="Zeta Secret Key", scopes=["partners:write"], partner=self.foreign, by=self.key_admin
        )
        self.markers.append(plaintext)
        # A notification of the foreign partner's admin: nobody else opens or lists it.
        self.foreign_notification = Notification.objects.create(
            recipient=self.users["foreign_admin"], subject="Zeta Secret reminder", url="/"
        )

        self.add_agreements()
        self.add_training()
        self.add_incentives()
        self.add_performance()
        self.add_integrations()

    def add_agreements(self):
        """An agreement of each side with a target and documents: the foreign one (every pk route
        aims at it) and a document of the own agreement that the vendor keeps from the portal."""
        from django.core.files.base import ContentFile

        line = ProductLineFactory(code="ISO-PL", name="Isolation Line")
        self.own_agreement = AgreementFactory(
            partner=self.own, number="AG-ALPHA-0001", product_lines=[line], territories=[self.region]
        )
        self.foreign_agreement = AgreementFactory(
            partner=self.foreign,
            number="AG-ZETA-SECRET-1",
            product_lines=[line],
            territories=[(self.other_region, True)],
            penalty_clauses="Zeta Secret penalty clause",
            notes="Zeta Secret vendor note",
        )
        self.foreign_target = AgreementTargetFactory(agreement=self.foreign_agreement, revenue="7777777.77")
        self.region_target = RegionTarget.objects.create(region=self.other_region, period="2026-Q1", revenue=1000)

        def document(agreement, name, visible=True):
            content = b"%PDF-1.4 " + name.encode()
            return AgreementDocument.objects.create(
                agreement=agreement,
                kind="signed",
                file=ContentFile(content, name=name),
                original_name=name,
                content_type="application/pdf",
                size=len(content),
                visible_to_partner=visible,
            )

        self.foreign_document = document(self.foreign_agreement, "zeta-secret-contract.pdf")
        document(self.own_agreement, "alpha-vendor-only-memo.pdf", visible=False)
        self.markers += ["AG-ZETA-SECRET-1", "7777777", "zeta-secret-contract", "alpha-vendor-only-memo"]

    def add_training(self):
        """The catalogue is everyone's (its course and session routes are reference data); what
        is foreign is Zeta's passed record with its certificate, and a material only the top tier
        may see (the own partner has no tier)."""
        from django.core.files.base import ContentFile

        self.course = ClassroomCourseFactory(code="ISO-C1", title="Isolation course")
        self.session = TrainingSessionFactory(course=self.course)
        # A file, so that serving it would answer 200 with its content (a link would redirect).
        self.top_tier_material = CourseMaterialFactory(
            course=self.course,
            title="Zeta Secret top-tier deck",
            kind="file",
            url="",
            file=ContentFile(b"%PDF-1.4 Zeta Secret top-tier deck", name="zeta-secret-deck.pdf"),
            original_name="zeta-secret-deck.pdf",
            content_type="application/pdf",
            min_tier=self.top_tier,
        )
        self.foreign_record = TrainingRecordFactory(
            contact=self.foreign_contact,
            course=self.course,
            session=self.session,
            passed=True,
            certificate_number="ZETA-SECRET-CERT-1",
        )
        self.markers += ["ZETA-SECRET-CERT-1"]

    def add_incentives(self):
        """A rebate policy (the vendor's programme: staff only), Zeta's statement with a line, its
        MDF budget and an approved request with a proof file; and the own partner's budget, so
        that a portal form offering budgets could offer the wrong one."""
        from django.core.files.base import ContentFile

        self.policy = RebatePolicyFactory(name="Zeta Secret rebate programme")
        self.override_policy = OverridePolicyFactory(name="Zeta Secret override programme")
        self.foreign_statement = RebateStatementFactory(partner=self.foreign, period="2026-03", total="8888888.88")
        self.foreign_line = StatementLineFactory(
            statement=self.foreign_statement, rebate_policy=self.policy, amount="8888888.88"
        )
        self.foreign_budget = MdfBudgetFactory(partner=self.foreign, allocated="6666666.66", note="Zeta Secret budget")
        self.own_budget = MdfBudgetFactory(partner=self.own, allocated="1000.00")
        self.foreign_request = MdfRequestFactory(
            budget=self.foreign_budget,
            title="Zeta Secret launch event",
            status="approved",
            requested_amount="5555.55",
            approved_amount="5555.55",
        )
        self.foreign_proof = MdfProof.objects.create(
            request=self.foreign_request,
            file=ContentFile(PDF_BYTES, name="zeta-secret-proof.pdf"),
            original_name="zeta-secret-proof.pdf",
            content_type="application/pdf",
            size=len(PDF_BYTES),
        )
        # A run started by Zeta's admin (an upload) that names Zeta: nobody else reads it.
        self.job_run = JobRun.objects.create(
            job="sales.sales_import_run",
            status="failed",
            error="Zeta Secret run failed",
            started_by=self.users["foreign_admin"],
        )
        self.foreign_sale = SalesLineFactory(
            partner=self.foreign, customer_name="Zeta Secret customer", external_id="ZETA-SECRET-SALE-1"
        )
        self.markers += ["ZETA-SECRET-SALE-1"]
        self.markers += [
            "Zeta Secret override",
            "Zeta Secret rebate",
            "8888888",
            "6666666",
            "5555.55",
            "zeta-secret-proof",
        ]

    def add_performance(self):
        """Zeta's KPI snapshots, scorecard and satisfaction score (its own figures: nobody outside
        reads them), and a region flag whose findings name Zeta (the channel team's: no partner
        reads it, not even Alpha's, whose region it is)."""
        from django.utils import timezone

        from performance.models import (
            CustomerSatisfaction,
            KpiSnapshot,
            RegionFlag,
            Scorecard,
            ScorecardTemplate,
            SnapshotRun,
        )
        from performance.services import month_compute

        month_compute(period="2026-03")
        now = timezone.now()
        run = SnapshotRun.objects.create(period="2026-02")
        self.foreign_snapshot = KpiSnapshot.objects.create(
            partner=self.foreign, period="2026-02", kpi="revenue", value="7777777.77", computed_at=now, run=run
        )
        KpiSnapshot.objects.create(
            region=self.region, period="2026-02", kpi="revenue", value="7777000.01", computed_at=now, run=run
        )
        template = ScorecardTemplate.objects.filter(is_default=True).first() or ScorecardTemplate.objects.create(
            name="Isolation template", is_default=True
        )
        self.foreign_scorecard = Scorecard.objects.create(
            partner=self.foreign, period="2026-02", template=template, score="77.71", grade="B", computed_at=now
        )
        self.foreign_satisfaction = CustomerSatisfaction.objects.create(
            partner=self.foreign, period="2026-02", score="77.73"
        )
        self.region_flag = RegionFlag.objects.create(
            region=self.region,
            period="2026-02",
            findings=[
                {
                    "rule": "score_below",
                    "threshold": "60",
                    "figures": {"score": "41.37"},
                    "partners": [{"id": self.foreign.pk, "code": self.foreign.code, "name": self.foreign.name}],
                }
            ],
            rules=["score_below"],
            opened_at=now,
            evaluated_at=now,
        )
        self.markers += ["7777777", "7777000", "77.71", "77.73", "41.37"]

    def add_integrations(self):
        """A deleted contact of Zeta (its tombstone is Zeta's), and the vendor's webhook endpoint
        with an event about Zeta and its delivery: the channel team's, never a partner's."""
        from integrations.choices import EventType
        from integrations.events import event_record
        from integrations.services import endpoint_create
        from partners.services import contact_delete

        gone = PartnerContactFactory(partner=self.foreign, name="Zeta Insider", external_id="CRM-ZETA-GONE")
        gone_pk = gone.pk
        contact_delete(contact=gone, by=self.staff)
        self.foreign_tombstone = Tombstone.objects.get(object_id=str(gone_pk), model="partners.partnercontact")
        self.endpoint = endpoint_create(
            name="Zeta Secret CRM hook",
            url="https://crm.example.com/hooks",
            events=[EventType.PARTNER_UPDATED],
            by=self.key_admin,
        )
        self.event = event_record(
            EventType.PARTNER_UPDATED,
            data={"id": self.foreign.pk, "name": self.foreign.name, "code": self.foreign.code},
            object_id=self.foreign.pk,
            partner=self.foreign,
        )
        self.delivery = WebhookDelivery.objects.get(event=self.event, endpoint=self.endpoint)
        self.markers += ["CRM-ZETA-GONE", "Zeta Secret CRM hook", self.endpoint.secret]

    def foreign_external_id(self, route_name):
        """What a `by-external-id` route names: the foreign partner's own external IDs."""
        if route_name.startswith("partner-contact"):
            return self.foreign_contact.external_id
        if route_name.startswith("sales-line"):
            return self.foreign_sale.external_id
        return self.foreign.external_id

    def foreign_pk(self, model):
        from performance.models import (
            CustomerSatisfaction,
            FlagRule,
            KpiSnapshot,
            RegionFlag,
            Scorecard,
            ScorecardTemplate,
        )

        if model is KpiSnapshot:
            return self.foreign_snapshot.pk
        if model is Tombstone:
            return self.foreign_tombstone.pk
        if model is WebhookEndpoint:
            return self.endpoint.pk
        if model is WebhookDelivery:
            return self.delivery.pk
        if model is WebhookEvent:
            return self.event.pk
        if model is Scorecard:
            return self.foreign_scorecard.pk
        if model is CustomerSatisfaction:
            return self.foreign_satisfaction.pk
        if model is RegionFlag:
            return self.region_flag.pk
        if model is ScorecardTemplate:
            return ScorecardTemplate.objects.order_by("pk").first().pk
        if model is FlagRule:
            return FlagRule.objects.order_by("pk").first().pk
        if model is JobRun:
            return self.job_run.pk
        if model is SalesLine:
            return self.foreign_sale.pk
        if model is RebatePolicy:
            return self.policy.pk
        if model is OverridePolicy:
            return self.override_policy.pk
        if model is RebateStatement:
            return self.foreign_statement.pk
        if model is StatementLine:
            return self.foreign_line.pk
        if model is MdfBudget:
            return self.foreign_budget.pk
        if model is MdfRequest:
            return self.foreign_request.pk
        if model is MdfProof:
            return self.foreign_proof.pk
        if model is Course:
            return self.course.pk
        if model is TrainingSession:
            return self.session.pk
        if model is CourseMaterial:
            return self.top_tier_material.pk
        if model is TrainingRecord:
            return self.foreign_record.pk
        if model is Agreement:
            return self.foreign_agreement.pk
        if model is AgreementTarget:
            return self.foreign_target.pk
        if model is AgreementDocument:
            return self.foreign_document.pk
        if model is RegionTarget:
            return self.region_target.pk
        if model is Notification:
            return self.foreign_notification.pk
        if model is ApiKey:
            return self.foreign_key.pk
        if model is Partner:
            return self.foreign.pk
        if model is PartnerContact:
            return self.foreign_contact.pk
        if model is Region:
            return self.region.pk
        if model is PartnerTier:
            return self.top_tier.pk
        if model._meta.label == "prm.User" or model._meta.model_name == "user":
            return self.users["foreign_admin"].pk
        obj = model._default_manager.first()
        return obj.pk if obj else 1

    def foreign_token(self, param):
        from django.utils.encoding import force_bytes
        from django.utils.http import urlsafe_base64_encode

        if param == "uidb64":
            return urlsafe_base64_encode(force_bytes(self.users["foreign_admin"].pk))
        return "set-password"

    def write_payload(self):
        payload = dict(FORBIDDEN_WRITE)
        payload.update(
            owner=self.staff.pk,
            tier=self.top_tier.pk,
            partner=self.foreign.pk,
            parent=self.foreign.pk,
            region=self.other_region.pk,
        )
        return payload

    def snapshot(self):
        """Everything foreign, and every protected field of the own side."""
        protected = [
            "code",
            "name",
            "status",
            "tier_id",
            "owner_id",
            "region_id",
            "parent_id",
            "external_id",
            "credit_rating",
            "path",
        ]
        User = type(self.staff)
        return {
            "foreign_partners": list(
                Partner.objects.filter(path__startswith=self.foreign.path).order_by("pk").values()
            ),
            "foreign_contacts": list(
                PartnerContact.objects.filter(partner__path__startswith=self.foreign.path).order_by("pk").values()
            ),
            "own_protected": list(
                Partner.objects.filter(path__startswith=self.own.path).order_by("pk").values(*protected)
            ),
            "privileges": list(User.objects.order_by("pk").values("pk", "is_staff", "is_superuser", "is_active")),
            "groups": sorted(User.groups.through.objects.values_list("user_id", "group_id")),
            "regions": list(Region.objects.order_by("pk").values()),
            "tiers": list(PartnerTier.objects.order_by("pk").values()),
            "foreign_agreements": list(
                Agreement.objects.filter(partner__path__startswith=self.foreign.path).order_by("pk").values()
            ),
            "foreign_targets": list(AgreementTarget.objects.filter(agreement=self.foreign_agreement).values()),
            "foreign_documents": list(AgreementDocument.objects.filter(agreement=self.foreign_agreement).values()),
            "own_agreements": list(Agreement.objects.filter(partner=self.own).order_by("pk").values()),
            "own_documents": list(AgreementDocument.objects.filter(agreement=self.own_agreement).values()),
            "region_targets": list(RegionTarget.objects.order_by("pk").values()),
            "training_catalogue": list(Course.objects.order_by("pk").values())
            + list(TrainingSession.objects.order_by("pk").values())
            + list(CourseMaterial.objects.order_by("pk").values()),
            "foreign_training": list(
                TrainingRecord.objects.filter(contact__partner__path__startswith=self.foreign.path)
                .order_by("pk")
                .values()
            ),
            "incentive_policies": list(RebatePolicy.objects.order_by("pk").values())
            + list(RebateBracket.objects.order_by("pk").values())
            + list(OverridePolicy.objects.order_by("pk").values()),
            "foreign_statements": list(
                RebateStatement.objects.filter(partner__path__startswith=self.foreign.path).order_by("pk").values()
            )
            + list(StatementLine.objects.filter(statement__partner=self.foreign).order_by("pk").values()),
            "own_statements": list(RebateStatement.objects.filter(partner=self.own).order_by("pk").values()),
            "foreign_mdf": list(MdfBudget.objects.filter(partner=self.foreign).order_by("pk").values())
            + list(MdfRequest.objects.filter(partner=self.foreign).order_by("pk").values())
            + list(MdfProof.objects.filter(request__partner=self.foreign).order_by("pk").values()),
            "own_budgets": list(MdfBudget.objects.filter(partner=self.own).order_by("pk").values()),
            "performance": _performance_rows(),
            "foreign_sales": list(
                SalesLine.objects.filter(partner__path__startswith=self.foreign.path).order_by("pk").values()
            ),
            "catalogue": list(ProductLine.objects.order_by("pk").values())
            + list(Product.objects.order_by("pk").values()),
            # Not last_used_at: a key records its own use.
            "api_keys": list(
                ApiKey.objects.order_by("pk").values(
                    "pk", "name", "prefix", "secret_hash", "scopes", "partner_id", "expires_at", "revoked_at"
                )
            ),
        }


def _performance_rows():
    from performance.models import (
        CustomerSatisfaction,
        FlagRule,
        KpiSnapshot,
        RegionFlag,
        RegionScorecard,
        Scorecard,
        ScorecardItem,
        ScorecardTemplate,
    )

    return [
        list(model.objects.order_by("pk").values())
        for model in (
            KpiSnapshot,
            Scorecard,
            RegionScorecard,
            CustomerSatisfaction,
            RegionFlag,
            FlagRule,
            ScorecardTemplate,
            ScorecardItem,
        )
    ]


def tenant_model_for(route):
    """The partner-owned model an API list route returns, if any."""
    callback = route.pattern.callback
    viewset = getattr(callback, "cls", None)
    if viewset is None or not hasattr(viewset, "get_queryset"):
        return None
    serializer = getattr(viewset, "serializer_class", None)
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    if model is not None and isinstance(model._default_manager.all(), TenantQuerySet):
        return model
    return None


def body_of(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def principals(world):
    """The outside roles: anonymous, the own partner's admin and user (API keys are added by
    the module that builds them, through `extra_principals`)."""
    anonymous = Client()
    own_admin, own_user = Client(), Client()
    own_admin.force_login(world.users["own_admin"])
    own_user.force_login(world.users["own_user"])
    # `_user`: signed in again whenever a route (sign-out, a refused request) ended the session, so
    # that every route is tried as that user, not only those before /logout/.
    found = {
        "anonymous": (anonymous, {}),
        "partner admin": (own_admin, {"_user": world.users["own_admin"]}),
        "partner user": (own_user, {"_user": world.users["own_user"]}),
    }
    found.update(extra_principals(world))
    return found


def extra_principals(world):
    """API keys of each scope bound to the own partner, and a vendor read key that tries every
    write (it may read everything, so its reads are not checked). No response may show any key's
    secret or hash."""
    found = {}
    for label, scopes in (
        ("key partners:read", ["partners:read"]),
        ("key partners:write", ["partners:write"]),
        ("key agreements:read", ["agreements:read", "sales:read"]),
        ("key agreements:write", ["agreements:write", "sales:write"]),
        ("key training:read", ["training:read"]),
        ("key training:write", ["training:write"]),
        ("key incentives:read", ["incentives:read"]),
        ("key incentives:write", ["incentives:write"]),
        ("key performance:read", ["performance:read"]),
        ("key performance:write", ["performance:write"]),
        ("key webhooks:write", ["webhooks:write"]),
    ):
        _key, plaintext = api_key_create(name=label, scopes=scopes, partner=world.own, by=world.key_admin)
        found[label] = (Client(), {"HTTP_AUTHORIZATION": f"Api-Key {plaintext}"})
        world.markers.append(plaintext)
    _key, plaintext = api_key_create(
        name="vendor read",
        scopes=[
            "partners:read",
            "agreements:read",
            "sales:read",
            "training:read",
            "incentives:read",
            "performance:read",
            "webhooks:read",
        ],
        partner=None,
        by=world.key_admin,
    )
    found["vendor key partners:read (writes)"] = (
        Client(),
        {"HTTP_AUTHORIZATION": f"Api-Key {plaintext}", "_writes_only": True},
    )
    world.markers.append(plaintext)
    world.markers.extend(ApiKey.objects.values_list("secret_hash", flat=True))
    return found


@pytest.mark.django_db
def test_no_route_leaks_or_changes_another_partners_data(capsys):
    world = World()
    routes = discover_routes()
    unclassified, urls = [], []
    for route in routes:
        try:
            urls.append((route, build_url(route, world)))
        except Unclassified as error:
            unclassified.append(str(error))
    assert not unclassified, "routes the isolation harness cannot classify:\n" + "\n".join(unclassified)

    roles = principals(world)  # before the snapshot: the API keys they create are set-up, not changes
    before = world.snapshot()
    foreign_counts = {}
    leaks, attempts = [], 0
    payload = world.write_payload()
    for label, (client, extra) in roles.items():
        extra = dict(extra)
        writes_only = extra.pop("_writes_only", False)
        user = extra.pop("_user", None)
        for route, url in urls:
            tenant_model = tenant_model_for(route)
            targets_foreign_object = "pk" in route_params(route) or "object_id" in route_params(route)
            for method in METHODS:
                if writes_only and method == "get":
                    continue
                if user is not None and "_auth_user_id" not in client.session:
                    client.force_login(user)
                attempts += 1
                request = getattr(client, method)
                if method == "get":
                    response = request(url, **extra)
                elif method == "post":
                    response = request(url, payload, **extra)
                else:
                    response = request(url, json.dumps(payload), content_type="application/json", **extra)
                where = f"{label} {method.upper()} {url}"
                body = body_of(response)
                if response.status_code >= 500:
                    leaks.append(f"{where}: server error {response.status_code}")
                for marker in world.markers:
                    if marker in body:
                        leaks.append(f"{where}: response shows {marker!r}")
                if (
                    targets_foreign_object
                    and 200 <= response.status_code < 300
                    and route.name
                    not in (
                        "partners:region-edit",
                        "partners:tier-edit",
                        "region-detail",
                        "tier-detail",
                        "product-line-detail",  # the catalogue is reference data everyone reads
                        "product-detail",
                        "course-detail",  # so is the training catalogue, with its sessions
                        "training-session-detail",
                        "portal-training:course",
                        "portal-training:enrol",
                    )
                ):
                    leaks.append(f"{where}: answered {response.status_code} for another partner's object")
                if route.name.startswith(STAFF_ONLY_ROUTE_PREFIXES) and 200 <= response.status_code < 300:
                    leaks.append(f"{where}: answered {response.status_code} on a page for vendor staff only")
                if tenant_model is not None and response.get("Content-Type", "").startswith("application/json"):
                    data = json.loads(body or "null")
                    if isinstance(data, dict) and "count" in data:
                        model = tenant_model
                        if model not in foreign_counts:
                            foreign_counts[model] = model._default_manager.exclude(
                                pk__in=model._default_manager.all().visible_to(world.users["own_admin"])
                            ).count()
                        limit = model._default_manager.count() - foreign_counts[model]
                        if data["count"] > limit:
                            leaks.append(f"{where}: counts {data['count']} rows, at most {limit} are its own")
    after = world.snapshot()
    for key in before:
        if before[key] != after[key]:
            leaks.append(f"data changed by an outside role: {key}")

    with capsys.disabled():
        print(
            f"\nisolation: {len(urls)} routes × {len(METHODS)} methods × {len(roles)} roles: "
            f"{attempts} requests, {len(leaks)} leaks"
        )
    assert not leaks, "\n".join(leaks[:50])
