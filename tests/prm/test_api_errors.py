"""Every API error answers {"code", "message", "errors"}, in the caller's language, and the OpenAPI
schema lists every error an operation can answer."""

import pytest
from rest_framework.test import APIClient

from partners.models import Region
from tests import factories
from tests.factories import (
    AnalystFactory,
    ChannelAdminFactory,
    PartnerFactory,
    ProductLineFactory,
    RegionFactory,
    SalesLineFactory,
)

REGIONS = "/api/v1/regions/"
PARTNERS = "/api/v1/partners/"
AGREEMENTS = "/api/v1/agreements/"
ERROR_REF = {"$ref": "#/components/schemas/Error"}

pytestmark = pytest.mark.django_db


def assert_error(response, status, code):
    """The one error shape: a stable code, a message for people, messages by field (maybe none)."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"code", "message", "errors"}, body
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"], body
    assert isinstance(body["errors"], dict), body
    return body


def key_client(scopes, partner=None):
    return factories.key_client(ChannelAdminFactory(), scopes, partner)


# The codes ---------------------------------------------------------------------------------------


def test_a_bad_field_is_invalid_with_its_message_under_the_field(api_client):
    body = assert_error(api_client.post(REGIONS, {"code": "EAST", "kind": "province"}), 400, "invalid")
    assert body["errors"] == {"name": ["This field is required."]}
    assert body["message"] == "This field is required."  # the one error, as is


def test_several_bad_fields_are_summed_up_in_the_message(api_client):
    body = assert_error(api_client.post(REGIONS, {}), 400, "invalid")
    assert {"code", "name"} <= set(body["errors"])
    assert body["message"] == "Check the fields marked."


def test_a_rule_across_fields_is_under_non_field_errors(api_client):
    region = RegionFactory()
    PartnerFactory(region=region)
    body = assert_error(api_client.delete(f"{REGIONS}{region.pk}/"), 400, "invalid")
    assert list(body["errors"]) == ["non_field_errors"]
    assert "move them first" in body["message"]
    assert Region.objects.filter(pk=region.pk).exists()


def test_errors_in_rows_of_a_list_stay_nested_under_the_list(api_client):
    region = RegionFactory()
    payload = {
        "partner": PartnerFactory(region=region).pk,
        "type": "distribution",
        "start_date": "2030-01-01",
        "end_date": "2030-12-31",
        "product_lines": [ProductLineFactory().pk],
        "territories": [{"region": region.pk, "exclusive": False}, {"region": 999999, "exclusive": False}],
    }
    body = assert_error(api_client.post(AGREEMENTS, payload, format="json"), 400, "invalid")
    assert body["errors"] == {"territories": {"1": {"region": ['Invalid pk "999999" - object does not exist.']}}}
    assert body["message"] == 'Invalid pk "999999" - object does not exist.'


def test_a_body_that_is_not_json_is_a_parse_error(api_client):
    body = assert_error(api_client.post(REGIONS, '{"code": ', content_type="application/json"), 400, "parse_error")
    assert body["errors"] == {}


def test_no_credentials_is_not_authenticated_with_the_challenge():
    response = APIClient().get(PARTNERS)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_a_refused_api_key_is_authentication_failed_with_the_api_key_challenge():
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Api-Key prm_0000_nope")
    response = api.get(PARTNERS)
    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == "Api-Key"


def test_a_role_that_may_not_write_is_permission_denied():
    api = APIClient()
    api.force_authenticate(AnalystFactory())
    body = assert_error(
        api.post(REGIONS, {"code": "EAST", "name": "East", "kind": "province"}), 403, "permission_denied"
    )
    assert body["message"] == "Your role can read this data but not change it."
    assert not Region.objects.exists()


def test_a_missing_scope_is_permission_denied_naming_the_scope():
    body = assert_error(key_client(["sales:read"]).get(PARTNERS), 403, "permission_denied")
    assert body["message"] == "This API key does not have the scope “partners:read”."


def test_a_foreign_object_and_a_missing_one_are_the_same_not_found():
    own, foreign = PartnerFactory(), PartnerFactory()
    api = key_client(["partners:read"], partner=own)
    hidden = assert_error(api.get(f"{PARTNERS}{foreign.pk}/"), 404, "not_found")
    missing = assert_error(api.get(f"{PARTNERS}999999/"), 404, "not_found")
    assert hidden == missing
    assert foreign.name not in str(hidden) and foreign.code not in str(hidden)


def test_an_unknown_api_address_is_not_found_in_the_same_shape(api_client):
    body = assert_error(api_client.get("/api/v1/no-such-thing/"), 404, "not_found")
    assert body["message"] == "No API endpoint at this address."


def test_a_page_past_the_end_is_not_found(api_client):
    assert_error(api_client.get(f"{PARTNERS}?page=99"), 404, "not_found")


def test_a_method_the_endpoint_does_not_offer_is_method_not_allowed(api_client):
    partner = PartnerFactory()
    assert_error(api_client.delete(f"{PARTNERS}{partner.pk}/"), 405, "method_not_allowed")


def test_an_answer_type_the_api_cannot_give_is_not_acceptable(api_client):
    assert_error(api_client.get(PARTNERS, HTTP_ACCEPT="application/xml"), 406, "not_acceptable")


def test_deleting_an_object_still_in_use_is_a_conflict(api_client):
    region = RegionFactory()
    SalesLineFactory(customer_region=region)
    body = assert_error(api_client.delete(f"{REGIONS}{region.pk}/"), 409, "conflict")
    assert body["message"] == "This object is still in use and cannot be deleted."
    assert Region.objects.filter(pk=region.pk).exists()


def test_a_body_type_the_endpoint_does_not_read_is_unsupported_media_type(api_client):
    response = api_client.post(REGIONS, "code=EAST", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")
    assert not Region.objects.exists()


def test_too_many_requests_is_throttled_with_retry_after(settings):
    settings.PRM_API_KEY_RATE = "1/minute"
    api = key_client(["partners:read"])  # a new key: nothing counted yet
    assert api.get(PARTNERS).status_code == 200
    response = api.get(PARTNERS)
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_a_view_answers_a_case_of_its_own_with_its_own_code(api_client):
    headers = {"HTTP_IDEMPOTENCY_KEY": "region-east-1"}
    assert api_client.post(REGIONS, {"code": "EAST", "name": "East", "kind": "province"}, **headers).status_code == 201
    reused = api_client.post(REGIONS, {"code": "WEST", "name": "West", "kind": "province"}, **headers)
    assert reused.status_code == 422
    assert_error(reused, 422, "idempotency_key_reused")


# Languages ---------------------------------------------------------------------------------------


def test_the_same_bad_request_in_chinese_has_the_same_code_and_translated_messages(api_client):
    english = assert_error(api_client.post(REGIONS, {}, HTTP_ACCEPT_LANGUAGE="en"), 400, "invalid")
    chinese = assert_error(api_client.post(REGIONS, {}, HTTP_ACCEPT_LANGUAGE="zh-Hans"), 400, "invalid")
    assert set(chinese["errors"]) == set(english["errors"])
    assert chinese["errors"]["name"] == ["该字段是必填项。"]
    assert chinese["message"] == "请检查标出的字段。"
    one = assert_error(
        api_client.post(REGIONS, {"code": "EAST", "kind": "province"}, HTTP_ACCEPT_LANGUAGE="zh-hans"), 400, "invalid"
    )
    assert one["message"] == "该字段是必填项。"


def test_refusals_and_not_found_answer_in_chinese(api_client):
    body = assert_error(
        key_client(["sales:read"]).get(PARTNERS, HTTP_ACCEPT_LANGUAGE="zh-hans"), 403, "permission_denied"
    )
    assert body["message"] == "此 API 密钥没有“partners:read”权限范围。"
    body = assert_error(api_client.get("/api/v1/no-such-thing/", HTTP_ACCEPT_LANGUAGE="zh-hans"), 404, "not_found")
    assert body["message"] == "此地址没有对应的 API 接口。"


def test_on_the_api_the_accept_language_header_wins_over_the_users_preference(client):
    client.force_login(ChannelAdminFactory(preferred_language="zh-hans"))
    english = client.post(REGIONS, {}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["errors"]["name"] == ["This field is required."]
    preferred = client.post(REGIONS, {}, content_type="application/json")
    assert preferred.json()["errors"]["name"] == ["该字段是必填项。"]
    assert "合作伙伴" in client.get("/partners/", HTTP_ACCEPT_LANGUAGE="en").content.decode()  # pages: the user's


# The schema --------------------------------------------------------------------------------------


@pytest.fixture
def schema(api_client):
    return api_client.get("/api/schema/?format=json").json()


def error_codes(schema, path, method):
    responses = schema["paths"][path][method]["responses"]
    errors = {code for code in responses if code.startswith("4")}
    for code in errors:
        assert responses[code]["content"]["application/json"]["schema"] == ERROR_REF, (path, method, code)
    return errors


def test_the_error_component_describes_the_format(schema):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message", "errors"}
    assert error["properties"]["errors"]["type"] == "object"


def test_every_operation_documents_the_errors_every_operation_can_answer(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403", "429"} <= codes, (path, method)
            assert "{" not in path or "404" in codes, (path, method)
            assert method == "get" or "400" in codes, (path, method)
            assert method != "delete" or "409" in codes, (path, method)


def test_a_list_documents_bad_filters_missing_pages_and_the_usual_refusals(schema):
    assert {"400", "401", "403", "404", "429"} <= error_codes(schema, PARTNERS, "get")
    assert "415" not in error_codes(schema, PARTNERS, "get")


def test_a_detail_documents_not_found(schema):
    assert {"401", "403", "404", "429"} <= error_codes(schema, "/api/v1/partners/{id}/", "get")


def test_a_write_documents_bad_input_and_the_body_type(schema):
    assert {"400", "401", "403", "415", "429"} <= error_codes(schema, REGIONS, "post")
    assert {"400", "404", "415"} <= error_codes(schema, "/api/v1/regions/{id}/", "patch")
    assert {"400", "404", "409"} <= error_codes(schema, "/api/v1/regions/{id}/", "delete")


def test_an_action_documents_its_errors_and_keeps_its_own_descriptions(schema):
    transition = schema["paths"]["/api/v1/partners/{id}/transition/"]["post"]["responses"]
    assert {"400", "401", "403", "404", "415", "429"} <= set(transition)
    assert "Retry-After" in transition["429"]["headers"]
    assert "WWW-Authenticate" in transition["401"]["headers"]
    imported = schema["paths"]["/api/v1/training-records/import/"]["post"]["responses"]
    assert "errors.file" in imported["400"]["description"]  # the view's own words, not the shared ones
