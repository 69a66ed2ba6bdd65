"""Where webhooks may go: never to loopback, private, link-local, multicast, reserved or
unspecified addresses (by literal or by what a name resolves to), unless the allow-list setting
names the host; only http and https; no credentials in the URL. The endpoint form and the API
name the `url` field in the refusal."""

import socket

import pytest
from django.core.exceptions import ValidationError

from integrations import services
from integrations.targets import TargetRefused, target_check

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_allow_list(settings):
    settings.PRM_WEBHOOK_ALLOWED_HOSTS = []


@pytest.fixture
def dns(monkeypatch):
    """Names resolve as the test says (no network in tests)."""
    table = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        family = socket.AF_INET6 if ":" in table[host] else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (table[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hooks",
        "http://127.8.9.10:8080/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/hooks",
        "http://172.16.5.4/hooks",
        "http://192.168.1.20/hooks",
        "http://100.64.0.1/hooks",
        "http://0.0.0.0/hooks",
        "http://224.0.0.1/hooks",
        "http://240.0.0.1/hooks",
        "http://[::1]/hooks",
        "http://[::]/hooks",
        "http://[fc00::1]/hooks",
        "http://[fd12:3456::1]/hooks",
        "http://[fe80::1]/hooks",
        "http://[ff02::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://[::ffff:10.0.0.1]/hooks",
    ],
)
def test_internal_addresses_are_refused(url):
    with pytest.raises(TargetRefused, match="PRM_WEBHOOK_ALLOWED_HOSTS"):
        target_check(url, resolve_required=False)


def test_names_are_judged_by_what_they_resolve_to(dns):
    dns["localhost"] = "127.0.0.1"
    dns["metadata.internal"] = "169.254.169.254"
    dns["crm.example.com"] = "93.184.216.34"
    dns["v6.example.com"] = "2606:4700::6810:85e5"
    for url in ("http://localhost:8000/hooks", "https://metadata.internal/"):
        with pytest.raises(TargetRefused):
            target_check(url, resolve_required=False)
    assert [str(a) for a in target_check("https://crm.example.com/hooks", resolve_required=True)] == ["93.184.216.34"]
    assert target_check("https://v6.example.com/hooks", resolve_required=True)
    assert target_check("https://93.184.216.34/hooks", resolve_required=True)


def test_a_name_that_does_not_resolve_is_saved_but_not_sent_to(dns):
    assert target_check("https://not-yet.example.com/hooks", resolve_required=False) == []
    with pytest.raises(TargetRefused, match="could not be resolved"):
        target_check("https://not-yet.example.com/hooks", resolve_required=True)


@pytest.mark.parametrize(
    "url, reason",
    [
        ("ftp://crm.example.com/hooks", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("https://user:secret@crm.example.com/hooks", "user name or password"),
        ("https://:secret@crm.example.com/hooks", "user name or password"),
        ("https:///hooks", "no host"),
        ("http://crm.example.com:99999/", "not a valid URL"),
    ],
)
def test_only_http_and_https_without_credentials(url, reason):
    with pytest.raises(TargetRefused, match=reason):
        target_check(url, resolve_required=False)


def test_the_allow_list_names_hosts_addresses_and_networks(settings, dns):
    dns["crm.lan"] = "192.168.10.4"
    dns["other.lan"] = "192.168.10.5"
    settings.PRM_WEBHOOK_ALLOWED_HOSTS = ["crm.lan", "127.0.0.1", "10.20.0.0/16", "fd00::/8"]
    assert target_check("http://crm.lan/hooks", resolve_required=True)
    assert target_check("http://127.0.0.1:8080/hooks", resolve_required=True)
    assert target_check("http://10.20.3.4/hooks", resolve_required=True)
    assert target_check("http://[fd00::5]/hooks", resolve_required=True)
    for url in ("http://other.lan/hooks", "http://10.21.0.1/hooks", "http://127.0.0.2/hooks"):
        with pytest.raises(TargetRefused):
            target_check(url, resolve_required=False)


def test_saving_an_endpoint_refuses_an_internal_url_under_url(staff_user):
    with pytest.raises(ValidationError) as refused:
        services.endpoint_create(name="CRM", url="http://169.254.169.254/", events=["partner.created"], by=staff_user)
    assert list(refused.value.message_dict) == ["url"]
    assert "private, loopback or otherwise internal" in refused.value.message_dict["url"][0]

    endpoint = services.endpoint_create(
        name="CRM", url="https://93.184.216.34/hooks", events=["partner.created"], by=staff_user
    )
    with pytest.raises(ValidationError) as refused:
        services.endpoint_update(endpoint=endpoint, url="http://[::1]:8000/", by=staff_user)
    assert list(refused.value.message_dict) == ["url"]
    endpoint.refresh_from_db()
    assert endpoint.url == "https://93.184.216.34/hooks"
