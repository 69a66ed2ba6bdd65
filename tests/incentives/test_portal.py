"""The portal's incentives: a partner's users (admin and plain user alike) read their own rebate
statements with the lines that explain each amount, print them and download them as a PDF; see
their MDF budgets and requests; draft, edit, submit and cancel requests and claim an approved one
with proof of performance. Another partner's statement, request or proof is not found on every
page and download, and the vendor's own data (policies, budget notes, who decided) never shows."""

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from incentives import services
from incentives.choices import LineKind, MdfStatus, StatementStatus
from incentives.models import MdfProof, MdfRequest, RebateStatement
from prm.periods import Period
from tests.factories import (
    PDF_BYTES,
    ChannelAdminFactory,
    DistributorFactory,
    MdfBudgetFactory,
    MdfProofFactory,
    MdfRequestFactory,
    OverridePolicyFactory,
    PartnerAdminUserFactory,
    PartnerFactory,
    PartnerUserFactory,
    RebatePolicyFactory,
    RebateStatementFactory,
    RegionFactory,
    StatementLineFactory,
)

from .world import PERIOD, assign, sell

pytestmark = pytest.mark.django_db

STATEMENTS = reverse("portal-incentives:statement-list")
MDF = reverse("portal-incentives:mdf")
CREATE = reverse("portal-incentives:mdf-request-create")
DASHBOARD = reverse("portal:dashboard")
FOREIGN_MARKERS = ("Zeta", "ZETA", "8,888", "6,666", "5,555", "zeta-proof")
STAFF_ONLY = ("Internal budget note", "Wang Internal")


def url(name, obj):
    return reverse(f"portal-incentives:{name}", args=[obj.pk])


def html(response):
    return response.content.decode()


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def assert_nothing_foreign(page):
    for marker in FOREIGN_MARKERS:
        assert marker not in page, marker


def quarter_day(offset=0):
    """A day of the current quarter (its first plus `offset` days)."""
    period = Period.containing(timezone.localdate(), "quarter")
    return period.start + timezone.timedelta(days=offset)


def pdf_upload(name="receipt.pdf", content=PDF_BYTES):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def pdf_text(pdf):
    """The text drawn on the PDF's pages, as one line: each shown string, read as single bytes or,
    for the CJK font's two-byte strings, as UTF-16 (values and Chinese labels are in that font).
    Lines a paragraph wraps join with a space."""
    texts = []
    for raw in re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", pdf):
        data = re.sub(rb"\\([0-7]{3})", lambda match: bytes([int(match[1], 8)]), raw)
        data = re.sub(rb"\\(.)", rb"\1", data)
        two_bytes = len(data) % 2 == 0 and (b"\x00" in data or any(byte > 0x7F for byte in data))
        texts.append(data.decode("utf-16-be", "replace") if two_bytes else data.decode("latin-1"))
    return re.sub(r"\s+", " ", " ".join(texts))


def page_count(pdf):
    return int(re.search(rb"/Count (\d+) /Kids \[[^\]]*\] /Type /Pages", pdf)[1])


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(db):
    """Huaxin (a distributor with a sub-partner, Minghui) with its March statement calculated from
    sales (a marginal policy, override commission on Minghui's sales, a correction) and approved,
    a provisional April statement and a cancelled February one; an MDF budget with a draft, a
    submitted, an approved request with a proof and a paid one. Zeta, another distributor, with a
    statement, a budget and an approved request with a proof of its own."""
    staff = ChannelAdminFactory(username="wang", display_name="Wang Internal")
    region = RegionFactory(code="SH", name="Shanghai")
    own = DistributorFactory(code="HUAXIN", name="Huaxin Distribution", region=region)
    sub = PartnerFactory(code="MINGHUI", name="Minghui Reseller", parent=own, region=region)
    foreign = DistributorFactory(code="ZETA", name="Zeta Secret Trading", region=region)
    policy = RebatePolicyFactory(name="Sensor growth rebate")
    OverridePolicyFactory(name="Network override", rates={1: 3})
    assign(own, policy)
    sell(own, "3800.00")
    sell(sub, "1000.00")
    march = services.statement_calculate(partner=own, period=PERIOD, by=staff)
    services.statement_add_adjustment(
        statement=march, amount="-12.34", reason="Correction for February returns", by=staff
    )
    march = services.statement_approve(statement=march, by=staff)
    april = RebateStatementFactory(partner=own, period="2026-04", total=Decimal("55.50"))
    StatementLineFactory(statement=april, rebate_policy=policy, amount=Decimal("55.50"))
    february = RebateStatementFactory(
        partner=own, period="2026-02", status=StatementStatus.CANCELLED, total=Decimal("11.00")
    )
    zeta_policy = RebatePolicyFactory(name="Zeta Secret programme")
    zeta_statement = RebateStatementFactory(partner=foreign, period=PERIOD, total=Decimal("8888.88"))
    StatementLineFactory(statement=zeta_statement, rebate_policy=zeta_policy, amount=Decimal("8888.88"))

    budget = MdfBudgetFactory(partner=own, allocated=Decimal("10000.00"), note="Internal budget note")
    draft = MdfRequestFactory(budget=budget, title="Spring sensor roadshow", requested_amount=Decimal("1200.00"))
    submitted = MdfRequestFactory(
        budget=budget, title="Trade fair booth", status=MdfStatus.SUBMITTED, requested_amount=Decimal("800.00")
    )
    approved = MdfRequestFactory(
        budget=budget,
        title="Installer training day",
        status=MdfStatus.APPROVED,
        requested_amount=Decimal("3000.00"),
        approved_amount=Decimal("2500.00"),
        decided_by=staff,
        decision_note="Keep the receipts of the venue.",
    )
    proof = MdfProofFactory(request=approved, original_name="venue-booking.pdf")
    paid = MdfRequestFactory(
        budget=budget,
        title="Newspaper advert",
        status=MdfStatus.PAID,
        requested_amount=Decimal("1000.00"),
        approved_amount=Decimal("1000.00"),
        actual_amount=Decimal("900.00"),
        payment_reference="PAY-2026-0042",
    )
    foreign_budget = MdfBudgetFactory(partner=foreign, allocated=Decimal("6666.66"), note="Zeta Secret budget")
    foreign_request = MdfRequestFactory(
        budget=foreign_budget,
        title="Zeta Secret launch",
        status=MdfStatus.APPROVED,
        requested_amount=Decimal("5555.55"),
        approved_amount=Decimal("5555.55"),
    )
    foreign_proof = MdfProofFactory(request=foreign_request, original_name="zeta-proof.pdf")
    return {
        "staff": staff,
        "own": own,
        "sub": sub,
        "march": march,
        "april": april,
        "february": february,
        "zeta_statement": zeta_statement,
        "budget": budget,
        "draft": draft,
        "submitted": submitted,
        "approved": approved,
        "proof": proof,
        "paid": paid,
        "foreign_budget": foreign_budget,
        "foreign_request": foreign_request,
        "foreign_proof": foreign_proof,
        "admin": PartnerAdminUserFactory(username="zhou", display_name="Zhou Min", partner=own),
        "member": PartnerUserFactory(username="wu", display_name="Wu Jie", partner=own),
    }


@pytest.fixture
def admin_client(client, world):
    client.force_login(world["admin"])
    return client


@pytest.fixture
def member_client(client, world):
    client.force_login(world["member"])
    return client


# Statements --------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "member"])
def test_the_list_shows_own_statements_with_provisional_and_cancelled_marked(client, world, who):
    client.force_login(world[who])
    response = client.get(STATEMENTS)
    assert response.status_code == 200
    page = html(response)
    table = page.split('id="statements"')[1]
    assert table.index("2026-04") < table.index("2026-03") < table.index("2026-02")  # newest first
    assert "CNY 757.66" in table  # 740.00 + 30.00 override − 12.34 correction
    assert "Provisional" in table and "CNY 55.50" in table
    assert "Cancelled" in table and "text-decoration-line-through" in table
    figures = page.split('id="statement-figures"')[1].split('id="statements"')[0]
    assert "CNY 757.66" in figures and "CNY 55.50" in figures  # approved to be paid; provisional
    assert_nothing_foreign(page)


def test_the_portal_menu_links_rebates_and_mdf(admin_client):
    nav = html(admin_client.get(DASHBOARD)).split("</nav>")[0]
    assert f'href="{STATEMENTS}"' in nav and "Rebates" in nav
    assert f'href="{MDF}"' in nav and "MDF" in nav


def test_the_incentives_address_leads_to_the_statements(admin_client):
    response = admin_client.get(reverse("portal-incentives:index"))
    assert response.status_code == 302 and response.url == STATEMENTS


def test_a_partner_without_statements_is_told_so(client, world):
    newcomer = DistributorFactory(code="NEW", name="Newcomer", region=world["own"].region)
    client.force_login(PartnerUserFactory(username="new", partner=newcomer))
    page = html(client.get(STATEMENTS))
    assert "You have no rebate statements yet." in page
    assert "HUAXIN" not in page and "757.66" not in page
    assert_nothing_foreign(page)


def test_the_statement_explains_every_line_and_adds_up(member_client, world):
    march = world["march"]
    response = member_client.get(url("statement-detail", march))
    assert response.status_code == 200
    page = html(response)
    lines = page.split('id="statement-lines"')[1]
    for text in (
        "Sensor growth rebate: the slice from 0 at 10%",
        "Sensor growth rebate: the slice from 1,000 at 20%",
        "Sensor growth rebate: the slice from 3,000 at 30%",
        "Network override: 3% of the sales of Minghui Reseller (MINGHUI) (level 1 above the seller)",
        "Correction for February returns",
        "CNY 1,000.00",  # the base of the first slice
        "CNY 800.00",  # the base of the top slice
        "30%",
        "× 1",
        "CNY 100.00",
        "CNY 400.00",
        "CNY 240.00",
        "CNY 30.00",
        "CNY -12.34",
    ):
        assert text in lines, text
    # The rebates first, then the override, then the correction; the total is the sum of the lines.
    assert lines.index("slice from 0 at") < lines.index("Network override") < lines.index("Correction for")
    amounts = sum(march.lines.values_list("amount", flat=True), Decimal("0"))
    assert amounts == march.total == Decimal("757.66")
    assert 'id="statement-total">CNY 757.66<' in lines
    assert "Approved" in page and "Provisional" not in page
    assert url("statement-print", march) in page and url("statement-pdf", march) in page
    assert_nothing_foreign(page)


def test_a_provisional_statement_says_it_may_change(admin_client, world):
    page = html(admin_client.get(url("statement-detail", world["april"])))
    assert "Provisional: the amounts may still change until the vendor approves this statement." in page


def test_a_cancelled_statement_says_it_will_not_be_paid(admin_client, world):
    page = html(admin_client.get(url("statement-detail", world["february"])))
    assert "Cancelled: this statement will not be paid." in page


def test_the_printable_statement_has_no_menu_and_the_same_lines(admin_client, world):
    response = admin_client.get(url("statement-print", world["march"]))
    assert response.status_code == 200
    page = html(response)
    assert "navbar" not in page
    assert "Huaxin Distribution (HUAXIN)" in page and "2026-03" in page
    assert "Network override" in page and 'id="statement-total">CNY 757.66<' in page
    assert "window.print()" in page
    assert_nothing_foreign(page)


@pytest.mark.parametrize("who", ["admin", "member"])
def test_the_statement_downloads_as_a_pdf_of_that_statement(client, world, who):
    client.force_login(world[who])
    response = client.get(url("statement-pdf", world["march"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="rebate-statement-HUAXIN-2026-03.pdf"'
    pdf = response.content
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert page_count(pdf) == 1
    text = pdf_text(pdf)
    for expected in (
        "Rebate statement",
        "Huaxin Distribution (HUAXIN)",
        "2026-03",
        "Approved",
        "Network override: 3% of the sales of Minghui Reseller",
        "Correction for February returns",
        "CNY 240.00",
        "CNY -12.34",
        "CNY 757.66",
    ):
        assert expected in text, expected
    assert "Zeta" not in text and "Sensor growth rebate" in text


def test_a_long_statement_runs_onto_more_pages(admin_client, world):
    april = world["april"]
    for number in range(60):
        StatementLineFactory(statement=april, kind=LineKind.ADJUSTMENT, rebate_policy=None, description=f"Fix {number}")
    pdf = admin_client.get(url("statement-pdf", april)).content
    assert page_count(pdf) >= 2
    assert "Fix 59" in pdf_text(pdf)


def test_the_pdf_speaks_the_users_language_in_the_cjk_font(client, world):
    world["member"].preferred_language = "zh-hans"
    world["member"].save()
    client.force_login(world["member"])
    pdf = client.get(url("statement-pdf", world["march"])).content
    assert pdf.startswith(b"%PDF") and b"STSong-Light" in pdf and b"UniGB-UCS2-H" in pdf
    assert b"Helvetica-Bold" not in pdf  # the Chinese heading and labels are in the CJK font too
    text = pdf_text(pdf)
    assert "返利对账单" in text and "CNY 757.66" in text


@pytest.mark.parametrize("name", ["statement-detail", "statement-print", "statement-pdf"])
def test_another_partners_statement_is_not_found(admin_client, world, name):
    response = admin_client.get(url(name, world["zeta_statement"]))
    assert response.status_code == 404
    assert b"%PDF" not in response.content and b"8888" not in response.content and b"Zeta" not in response.content


def test_an_unknown_statement_is_not_found(admin_client):
    assert admin_client.get(reverse("portal-incentives:statement-detail", args=[999999])).status_code == 404


def test_staff_are_refused_and_anonymous_visitors_sent_to_sign_in(client, world):
    urls = (STATEMENTS, MDF, url("statement-detail", world["march"]), url("mdf-request-detail", world["draft"]))
    client.force_login(world["staff"])
    for each in urls:
        assert client.get(each).status_code == 403, each
    client.logout()
    for each in urls:
        response = client.get(each)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), each


# MDF overview ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "member"])
def test_the_mdf_page_shows_budget_figures_and_own_requests(client, world, who):
    client.force_login(world[who])
    response = client.get(MDF)
    assert response.status_code == 200
    page = html(response)
    budget = page.split('id="budgets"')[1].split('id="requests"')[0]
    # Allocated 10,000; submitted 800 awaits a decision (not held); 2,500 reserved; 900 paid.
    for text in ("CNY 10,000.00", "CNY 800.00", "CNY 2,500.00", "CNY 0.00", "CNY 900.00", "CNY 6,600.00"):
        assert text in budget, text
    requests = page.split('id="requests"')[1]
    for request in ("draft", "submitted", "approved", "paid"):
        assert world[request].reference in requests and world[request].title in requests
    assert CREATE in page
    assert_nothing_foreign(page)
    for secret in STAFF_ONLY:
        assert secret not in page


def test_the_mdf_requests_filter_by_status(admin_client, world):
    page = html(admin_client.get(f"{MDF}?status=approved")).split('id="requests"')[1]
    assert world["approved"].title in page and world["draft"].title not in page
    page = html(admin_client.get(f"{MDF}?status=open")).split('id="requests"')[1]
    assert world["draft"].title in page and world["paid"].title not in page
    page = html(admin_client.get(f"{MDF}?status=nonsense")).split('id="requests"')[1]
    assert world["paid"].title in page  # an unknown status filters nothing


def test_a_partner_without_a_budget_cannot_start_a_request(client, world):
    newcomer = DistributorFactory(code="NEW", name="Newcomer", region=world["own"].region)
    client.force_login(PartnerUserFactory(username="new", partner=newcomer))
    page = html(client.get(MDF))
    assert "You have no MDF budget yet." in page and CREATE not in page
    assert_nothing_foreign(page)
    response = client.get(CREATE)
    assert response.status_code == 200
    assert 'value="' + str(world["budget"].pk) + '"' not in html(response)


# Creating, editing, submitting, cancelling --------------------------------------------------------


def request_data(world, **changes):
    data = {
        "budget": world["budget"].pk,
        "title": "Summer installer meetup",
        "activity_type": "training_event",
        "plan": "Two evenings with 40 installers: product demos and a Q&A.",
        "start_date": quarter_day(10).isoformat(),
        "end_date": quarter_day(11).isoformat(),
        "requested_amount": "1500.00",
    }
    data.update(changes)
    return data


def test_the_form_offers_only_the_partners_own_budgets(member_client, world):
    page = html(member_client.get(CREATE))
    assert f'value="{world["budget"].pk}"' in page
    assert f'value="{world["foreign_budget"].pk}"' not in page
    assert "CNY 6,600.00 left" in page
    assert_nothing_foreign(page)


def test_a_member_drafts_and_submits_a_request(member_client, world):
    response = member_client.post(CREATE, request_data(world), follow=True)
    created = MdfRequest.objects.get(title="Summer installer meetup")
    assert response.redirect_chain[-1][0] == url("mdf-request-detail", created)
    assert created.status == MdfStatus.DRAFT and created.partner == world["own"]
    assert created.requested_amount == Decimal("1500.00") and created.created_by == world["member"]
    assert f"Draft {created.reference} saved." in messages_of(response)[0]
    page = html(response)
    assert "This request is a draft" in page and url("mdf-request-submit", created) in page

    response = member_client.post(url("mdf-request-submit", created), follow=True)
    created.refresh_from_db()
    assert created.status == MdfStatus.SUBMITTED
    assert f"{created.reference} was submitted; the vendor will decide on it." in messages_of(response)
    page = html(response)
    assert "Submitted: waiting for the vendor" in page
    history = page.split('id="history"')[1]
    assert "Created" in history and "Submitted" in history and "Wu Jie" in history


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"requested_amount": "0"}, "requested_amount", "Must be more than zero."),
        ({"requested_amount": "10.005"}, "requested_amount", "Ensure that there are no more than 2 decimal places."),
        ({"requested_amount": "lots"}, "requested_amount", "Enter a number."),
        ({"title": ""}, "title", "This field is required."),
        ({"activity_type": "party"}, "activity_type", "Select a valid choice."),
        ({"end_date": "2000-01-01"}, "end_date", "The end date must not be before the start date."),
        ({"start_date": "2000-01-01", "end_date": "2000-01-02"}, "start_date", "must start within the budget"),
        ({"budget": "999999"}, "budget", "Choose one of your organisation"),
    ],
)
def test_bad_input_is_refused_on_its_field_and_nothing_is_saved(member_client, world, changes, field, message):
    before = MdfRequest.objects.count()
    response = member_client.post(CREATE, request_data(world, **changes))
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors.replace("’", "'"), response.context["form"].errors
    assert MdfRequest.objects.count() == before


def test_another_partners_budget_is_an_invalid_choice(member_client, world):
    response = member_client.post(CREATE, request_data(world, budget=world["foreign_budget"].pk))
    assert response.status_code == 200 and "budget" in response.context["form"].errors
    assert not MdfRequest.objects.filter(title="Summer installer meetup").exists()
    assert world["foreign_budget"].requests.count() == 1


def test_a_draft_is_edited(admin_client, world):
    draft = world["draft"]
    page = html(admin_client.get(url("mdf-request-edit", draft)))
    assert 'value="Spring sensor roadshow"' in page
    response = admin_client.post(
        url("mdf-request-edit", draft), request_data(world, title="Spring roadshow, 3 cities", requested_amount="1800")
    )
    assert response.status_code == 302 and response.url == url("mdf-request-detail", draft)
    draft.refresh_from_db()
    assert draft.title == "Spring roadshow, 3 cities" and draft.requested_amount == Decimal("1800.00")


def test_a_submitted_request_is_not_edited(admin_client, world):
    submitted = world["submitted"]
    response = admin_client.get(url("mdf-request-edit", submitted), follow=True)
    assert "Only a draft can be changed." in messages_of(response)
    response = admin_client.post(url("mdf-request-edit", submitted), request_data(world, title="Changed"))
    assert response.status_code == 200
    assert "Only a draft can be changed" in " ".join(response.context["form"].non_field_errors())
    submitted.refresh_from_db()
    assert submitted.title == "Trade fair booth"


def test_submitting_twice_is_refused_with_the_reason(admin_client, world):
    response = admin_client.post(url("mdf-request-submit", world["submitted"]), follow=True)
    assert any("cannot go from Submitted to Submitted" in text for text in messages_of(response))


def test_an_approved_request_is_cancelled_and_gives_its_reservation_back(admin_client, world):
    approved = world["approved"]
    page = html(admin_client.get(url("mdf-request-detail", approved)))
    assert "The approved amount goes back to your budget." in page
    response = admin_client.post(url("mdf-request-cancel", approved), follow=True)
    assert f"{approved.reference} was cancelled." in messages_of(response)
    approved.refresh_from_db()
    assert approved.status == MdfStatus.CANCELLED
    budget = html(admin_client.get(MDF)).split('id="budgets"')[1].split('id="requests"')[0]
    assert "CNY 9,100.00" in budget  # 10,000 − 900 paid


def test_actions_take_a_post(admin_client, world):
    for name in ("mdf-request-submit", "mdf-request-cancel", "mdf-proof-upload"):
        assert admin_client.get(url(name, world["draft"])).status_code == 405, name
    assert admin_client.get(url("mdf-proof-delete", world["proof"])).status_code == 405
    world["draft"].refresh_from_db()
    assert world["draft"].status == MdfStatus.DRAFT


# The request page ------------------------------------------------------------------------------


def test_the_request_page_shows_status_amounts_note_and_proofs(member_client, world):
    approved = world["approved"]
    page = html(member_client.get(url("mdf-request-detail", approved)))
    for text in (
        approved.reference,
        "Installer training day",
        "Training event" if approved.activity_type == "training_event" else "Trade show",
        "CNY 3,000.00",
        "CNY 2,500.00",
        "Keep the receipts of the venue.",
        "venue-booking.pdf",
        url("mdf-proof-download", world["proof"]),
        url("mdf-request-claim", approved),
    ):
        assert text in page, text
    assert "Wang Internal" not in page  # who decided on the vendor's side
    assert_nothing_foreign(page)


def test_a_rejection_shows_its_reason(admin_client, world):
    submitted = world["submitted"]
    services.mdf_request_reject(request=submitted, by=world["staff"], reason="No budget for trade fairs this year.")
    page = html(admin_client.get(url("mdf-request-detail", submitted)))
    decision = page.split('id="decision"')[1]
    assert "Rejected." in decision and "No budget for trade fairs this year." in decision
    assert "Rejected" in page.split('id="history"')[1]


def test_a_claim_sent_back_says_why_and_may_be_claimed_again(admin_client, world):
    approved = world["approved"]
    services.mdf_request_claim(request=approved, by=world["admin"], actual_amount="2400.00")
    services.mdf_claim_return(request=approved, by=world["staff"], reason="The invoice is missing.")
    page = html(admin_client.get(url("mdf-request-detail", approved)))
    decision = page.split('id="decision"')[1]
    assert "Your claim was sent back." in decision and "The invoice is missing." in decision
    assert "Claim sent back" in page.split('id="history"')[1]
    assert url("mdf-request-claim", approved) in page


def test_a_paid_claim_shows_the_payment_reference(admin_client, world):
    page = html(admin_client.get(url("mdf-request-detail", world["paid"])))
    assert "PAY-2026-0042" in page and "CNY 900.00" in page
    assert url("mdf-request-claim", world["paid"]) not in page
    assert 'data-bs-target="#cancel-request"' not in page


# Claiming and proof ----------------------------------------------------------------------------


def test_the_claim_page_lists_the_proof_so_far(member_client, world):
    approved = world["approved"]
    page = html(member_client.get(url("mdf-request-claim", approved)))
    assert "venue-booking.pdf" in page and url("mdf-proof-delete", world["proof"]) in page
    assert "At most the approved amount, CNY 2,500.00." in page
    assert url("mdf-proof-upload", approved) in page


def test_only_an_approved_request_is_claimed(member_client, world):
    response = member_client.get(url("mdf-request-claim", world["draft"]), follow=True)
    assert "Only an approved request can be claimed." in messages_of(response)


def test_a_member_claims_with_a_new_proof_file(member_client, world):
    approved = world["approved"]
    response = member_client.post(
        url("mdf-request-claim", approved),
        {"actual_amount": "2400.00", "note": "120 installers came.", "files": [pdf_upload("invoice.pdf")]},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url("mdf-request-detail", approved)
    assert f"{approved.reference} was claimed" in messages_of(response)[0]
    approved.refresh_from_db()
    assert approved.status == MdfStatus.CLAIMED and approved.actual_amount == Decimal("2400.00")
    assert approved.claim_note == "120 installers came."
    assert sorted(approved.proofs.values_list("original_name", flat=True)) == ["invoice.pdf", "venue-booking.pdf"]
    page = html(response)
    assert "the vendor is reviewing your proof of performance" in page and "120 installers came." in page
    assert url("mdf-request-claim", approved) not in page


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"actual_amount": "2500.01"}, "actual_amount", "Claim at most the approved amount (2500.00)."),
        ({"actual_amount": "0"}, "actual_amount", "Must be more than zero."),
        ({"actual_amount": ""}, "actual_amount", "This field is required."),
        ({"actual_amount": "100", "files": "exe"}, "files", "The file's content is not a PDF file."),
        (
            {"actual_amount": "100", "files": "txt"},
            "files",
            "Upload a PDF, PNG, JPEG, Word (.docx) or Excel (.xlsx) file.",
        ),
    ],
)
def test_a_bad_claim_is_refused_on_its_field_and_nothing_changes(member_client, world, data, field, message):
    approved = world["approved"]
    files = {
        "exe": [pdf_upload("fake.pdf", b"MZ\x90\x00 not a pdf")],
        "txt": [SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")],
    }
    payload = {**data, "files": files.get(data.get("files"), [])}
    response = member_client.post(url("mdf-request-claim", approved), payload)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors, response.context["form"].errors
    approved.refresh_from_db()
    assert approved.status == MdfStatus.APPROVED and approved.actual_amount is None
    assert list(approved.proofs.values_list("original_name", flat=True)) == ["venue-booking.pdf"]


def test_a_claim_needs_some_proof(member_client, world):
    approved = world["approved"]
    world["proof"].delete()
    response = member_client.post(url("mdf-request-claim", approved), {"actual_amount": "100.00"})
    assert response.status_code == 200
    assert "Attach proof of performance" in " ".join(response.context["form"].errors["files"])
    approved.refresh_from_db()
    assert approved.status == MdfStatus.APPROVED


def test_proof_is_uploaded_and_removed_while_approved(admin_client, world):
    approved = world["approved"]
    response = admin_client.post(url("mdf-proof-upload", approved), {"file": pdf_upload("photos.pdf")}, follow=True)
    assert response.redirect_chain[-1][0] == url("mdf-request-claim", approved)
    assert "photos.pdf uploaded." in messages_of(response)
    proof = approved.proofs.get(original_name="photos.pdf")
    assert proof.uploaded_by == world["admin"]
    response = admin_client.post(url("mdf-proof-delete", proof), follow=True)
    assert "photos.pdf removed." in messages_of(response)
    assert not approved.proofs.filter(original_name="photos.pdf").exists()


def test_a_bad_proof_file_is_refused_on_the_claim_page(admin_client, world):
    approved = world["approved"]
    response = admin_client.post(
        url("mdf-proof-upload", approved), {"file": SimpleUploadedFile("tool.exe", b"MZ", "application/x-msdownload")}
    )
    assert response.status_code == 200
    assert "Upload a PDF, PNG, JPEG" in " ".join(response.context["upload_form"].errors["file"])
    assert "venue-booking.pdf" in html(response)  # still the claim page, with the proof so far
    assert approved.proofs.count() == 1


def test_the_proof_of_a_claimed_request_stays(admin_client, world):
    approved = world["approved"]
    services.mdf_request_claim(request=approved, by=world["admin"], actual_amount="2000.00")
    response = admin_client.post(url("mdf-proof-delete", world["proof"]), follow=True)
    assert "Proof of a claimed request stays as it is." in messages_of(response)
    assert MdfProof.objects.filter(pk=world["proof"].pk).exists()


def test_own_proof_downloads_as_an_attachment(member_client, world):
    response = member_client.get(url("mdf-proof-download", world["proof"]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="venue-booking.pdf"'
    assert b"".join(response.streaming_content) == PDF_BYTES


# Isolation: another partner's request and proof ---------------------------------------------------


@pytest.mark.parametrize(
    "name, method",
    [
        ("mdf-request-detail", "get"),
        ("mdf-request-edit", "get"),
        ("mdf-request-edit", "post"),
        ("mdf-request-submit", "post"),
        ("mdf-request-cancel", "post"),
        ("mdf-request-claim", "get"),
        ("mdf-request-claim", "post"),
        ("mdf-proof-upload", "post"),
    ],
)
def test_another_partners_request_is_not_found_and_unchanged(admin_client, world, name, method):
    foreign = world["foreign_request"]
    data = {"actual_amount": "1.00", "files": [pdf_upload()], "file": pdf_upload(), **request_data(world)}
    response = getattr(admin_client, method)(url(name, foreign), data if method == "post" else None)
    assert response.status_code == 404
    assert b"Zeta" not in response.content and b"5555" not in response.content
    foreign.refresh_from_db()
    assert foreign.status == MdfStatus.APPROVED and foreign.title == "Zeta Secret launch"
    assert foreign.proofs.count() == 1


@pytest.mark.parametrize("name, method", [("mdf-proof-download", "get"), ("mdf-proof-delete", "post")])
def test_another_partners_proof_is_not_found(admin_client, world, name, method):
    response = getattr(admin_client, method)(url(name, world["foreign_proof"]))
    assert response.status_code == 404
    assert PDF_BYTES not in response.content and b"zeta" not in response.content.lower()
    assert MdfProof.objects.filter(pk=world["foreign_proof"].pk).exists()


# The dashboard panel ---------------------------------------------------------------------------


def test_the_dashboard_shows_the_latest_statement_and_what_is_left_of_the_budget(admin_client, world):
    page = html(admin_client.get(DASHBOARD))
    panel = page.split('id="incentives-panel"')[1]
    assert "2026-04" in panel and "Provisional" in panel and "CNY 55.50" in panel
    assert "CNY 6,600.00 left of CNY 10,000.00" in panel
    for text in (
        "1 draft request to submit",
        "1 request waiting for the vendor's decision",
        "1 approved request to claim once done",
    ):
        assert text in panel, text
    assert "claim under review" not in panel
    assert_nothing_foreign(page)


def test_the_dashboard_hides_the_panel_with_nothing_to_say(client, world):
    newcomer = DistributorFactory(code="NEW", name="Newcomer", region=world["own"].region)
    client.force_login(PartnerUserFactory(username="new", partner=newcomer))
    assert 'id="incentives-panel"' not in html(client.get(DASHBOARD))


# Query counts ----------------------------------------------------------------------------------


def add_rows(world, count, year):
    """`count` more statements with lines, requests with proofs and budgets (in `year`) for the own
    partner, and as many lines on the March statement and proofs on the approved request."""
    own, policy = world["own"], world["march"].lines.filter(kind=LineKind.REBATE).first().rebate_policy
    for number in range(count):
        statement = RebateStatementFactory(partner=own, period=f"{year}-{number + 1:02d}", total=Decimal("1.00"))
        StatementLineFactory(statement=statement, rebate_policy=policy, amount=Decimal("1.00"))
        StatementLineFactory(statement=world["march"], kind=LineKind.ADJUSTMENT, rebate_policy=None, amount=0)
        budget = MdfBudgetFactory(partner=own, period=f"{year}-{number + 1:02d}")
        request = MdfRequestFactory(budget=budget, status=MdfStatus.APPROVED, approved_amount=Decimal("1000.00"))
        MdfProofFactory(request=request)
        MdfProofFactory(request=world["approved"])


@pytest.mark.parametrize(
    "page",
    [
        "statements",
        "mdf",
        "dashboard",
        "statement-detail",
        "statement-print",
        "mdf-request-detail",
        "mdf-request-claim",
        "mdf-request-create",
    ],
)
def test_pages_issue_the_same_bounded_number_of_queries_for_2_and_12_rows(
    admin_client, world, page, django_assert_max_num_queries
):
    target = {
        "statements": STATEMENTS,
        "mdf": MDF,
        "dashboard": DASHBOARD,
        "mdf-request-create": CREATE,
        "statement-detail": url("statement-detail", world["march"]),
        "statement-print": url("statement-print", world["march"]),
        "mdf-request-detail": url("mdf-request-detail", world["approved"]),
        "mdf-request-claim": url("mdf-request-claim", world["approved"]),
    }[page]

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(target).status_code == 200
        return len(queries)

    add_rows(world, 2, 2019)
    few = count()
    add_rows(world, 10, 2020)
    # The dashboard also carries the other apps' panels.
    with django_assert_max_num_queries(20 if page == "dashboard" else 12):
        many = count()
    assert many == few


# Chinese ---------------------------------------------------------------------------------------


def test_the_pages_render_in_chinese(client, world):
    world["member"].preferred_language = "zh-hans"
    world["member"].save()
    client.force_login(world["member"])
    expectations = {
        STATEMENTS: ("返利对账单", "暂定"),
        url("statement-detail", world["march"]): ("返利对账单", "超额佣金"),
        url("statement-print", world["march"]): ("返利对账单",),
        MDF: ("市场发展基金", "已分配", "已预留", "剩余"),
        CREATE: ("预算",),
        url("mdf-request-detail", world["approved"]): ("执行证明",),
        url("mdf-request-claim", world["approved"]): ("执行证明",),
        DASHBOARD: ("返利",),
    }
    for target, words in expectations.items():
        page = html(client.get(target))
        assert 'lang="zh-hans"' in page, target
        for word in words:
            assert word in page, (target, word)
    assert RebateStatement.objects.filter(partner=world["own"]).count() == 3
