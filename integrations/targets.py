"""Where a webhook may be sent: only http and https URLs without credentials, to hosts on the
public internet. A host that is or resolves to a loopback, private, link-local, multicast,
reserved or unspecified address (IPv4 or IPv6) is refused, unless `PRM_WEBHOOK_ALLOWED_HOSTS`
names it (a host name, an address or a network such as 10.20.0.0/16).

The URL is checked when an endpoint is saved and again before every delivery (DNS may have
changed since), and the delivery connects to the very address that was checked."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class TargetRefused(ValidationError):
    """The URL may not receive webhooks; the message says why."""


def _allowed():
    names, networks = set(), []
    for item in settings.PRM_WEBHOOK_ALLOWED_HOSTS:
        try:
            networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
        except ValueError:
            names.add(item.lower().rstrip("."))
    return names, networks


def _public(address):
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def url_parts(url):
    """(scheme, host, port) of a URL webhooks may be sent to, or TargetRefused."""
    try:
        parts = urlsplit(url or "")
        port = parts.port
    except ValueError:
        raise TargetRefused(_("This is not a valid URL.")) from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused(_("Use an http:// or https:// URL."))
    if parts.username is not None or parts.password is not None:
        raise TargetRefused(_("Do not put a user name or password in the URL; deliveries are signed instead."))
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise TargetRefused(_("The URL has no host."))
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


def _resolve(host, port):
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def target_check(url, *, resolve_required):
    """The addresses a delivery to `url` may connect to (those the host resolves to), or
    TargetRefused naming the reason. A host in the allow-list is not checked further. With
    `resolve_required` false (when an endpoint is saved), a host that does not resolve yet is
    let through: it is checked again before every delivery."""
    _scheme, host, port = url_parts(url)
    names, networks = _allowed()
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    addresses = [literal] if literal is not None else _resolve(host, port)
    if addresses is None:
        if resolve_required:
            raise TargetRefused(_("The host %(host)s could not be resolved.") % {"host": host})
        return []
    if host.lower() in names:
        return addresses
    for address in addresses:
        plain = address.ipv4_mapped if address.version == 6 and address.ipv4_mapped else address
        if any(plain in network or address in network for network in networks):
            continue
        if not _public(address):
            raise TargetRefused(
                _(
                    "%(host)s is a private, loopback or otherwise internal address (%(address)s); webhooks go "
                    "only to public hosts unless the setting PRM_WEBHOOK_ALLOWED_HOSTS names it."
                )
                % {"host": host, "address": address}
            )
    return addresses
