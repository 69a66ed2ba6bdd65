"""A region flag's findings as the pages show them (the flag page, the region page): each
rule's label, its threshold as people read it, its figures formatted, and the partners that
drive it, linked while they exist."""

from django.utils.translation import gettext as _

from partners.models import Partner
from prm.money import format_money

from .choices import FlagRuleCode
from .templatetags.performance_tags import format_kind


def rule_labels(codes):
    labels = dict(FlagRuleCode.choices)
    return [str(labels.get(code, code)) for code in codes]


def threshold_text(code, value):
    """A rule's threshold as people read it: a percentage, a score, or a number of months."""
    if code in (FlagRuleCode.ATTAINMENT, FlagRuleCode.CROSS_TERRITORY):
        return format_kind(value, "ratio")
    if code == FlagRuleCode.SCORE:
        return format_kind(value, "score")
    return _("%(months)s months in a row") % {"months": format_kind(value, "count")}


def _money(value):
    return format_money(value) if value not in (None, "") else "—"


def finding_rows(finding):
    """[(label, text)] of a finding's figures, and the label of its partners' figure."""
    code, figures = finding.get("rule"), finding.get("figures") or {}
    if code == FlagRuleCode.ATTAINMENT:
        rows = [
            (_("Target attainment"), format_kind(figures.get("target_attainment"), "ratio")),
            (_("Revenue"), _money(figures.get("revenue"))),
            (_("Revenue target"), _money(figures.get("revenue_target"))),
        ]
        return rows, _("Shortfall against target")
    if code == FlagRuleCode.SCORE:
        return [(_("Region score"), format_kind(figures.get("score"), "score"))], _("Partner score")
    if code == FlagRuleCode.DECLINE:
        revenue = figures.get("revenue") or {}
        rows = [(_("Revenue %(month)s") % {"month": month}, _money(value)) for month, value in sorted(revenue.items())]
        return rows, _("Revenue lost since the first month")
    if code == FlagRuleCode.CROSS_TERRITORY:
        rows = [
            (_("Cross-territory sales share"), format_kind(figures.get("cross_territory_share"), "ratio")),
            (_("Revenue sold outside the territories"), _money(figures.get("outside_revenue"))),
            (_("Revenue"), _money(figures.get("revenue"))),
        ]
        return rows, _("Revenue sold outside its territories")
    return [(key, value) for key, value in figures.items()], _("Figure")


def partner_figure(code, figure):
    return format_kind(figure, "score") if code == FlagRuleCode.SCORE else _money(figure)


def present_findings(flag):
    """The flag's findings ready for the page: each rule's label, threshold, figures and the
    contributing partners (linked when the partner still exists). One query for the partners."""
    labels = dict(FlagRuleCode.choices)
    ids = {p.get("id") for finding in flag.findings for p in finding.get("partners", [])}
    existing = set(Partner.objects.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    presented = []
    for finding in flag.findings:
        code = finding.get("rule")
        figures, figure_label = finding_rows(finding)
        presented.append(
            {
                "code": code,
                "label": labels.get(code, code),
                "threshold": threshold_text(code, finding.get("threshold")),
                "figures": figures,
                "figure_label": figure_label,
                "partners": [
                    {
                        "id": partner.get("id") if partner.get("id") in existing else None,
                        "code": partner.get("code", ""),
                        "name": partner.get("name", ""),
                        "figure": partner_figure(code, partner.get("figure")),
                    }
                    for partner in finding.get("partners", [])
                ],
            }
        )
    return presented
