"""Which webhook URLs and addresses the service may call: a tenant's URL must not turn the worker into a
proxy into the operator's network (SSRF). Pure rules; infra/webhook_http.py resolves names and connects
only to an address these rules allowed.

- https only, unless plain http is allowed (INVOICE_WEBHOOKS_ALLOW_HTTP, for local runs);
- no credentials in the URL, no fragment, a host name or an IP literal, at most 2048 characters;
- no address that is not globally routable: loopback, private (RFC 1918, ULA), link-local, CGNAT
  (100.64/10), multicast, reserved, unspecified, the cloud metadata addresses (169.254.169.254 and
  fd00:ec2::254), and IPv6 forms that carry an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo) when the
  IPv4 inside is one of those; unless private addresses are allowed (INVOICE_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES,
  for the tests and `make run`).
"""

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL_LENGTH = 2048
METADATA = (ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"))
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeUrl(ValueError):
    """The URL (or an address its host resolves to) may not be called; the message says why."""


@dataclass(frozen=True)
class WebhookUrl:
    url: str
    scheme: str
    host: str  # a name, or an IP literal without brackets
    port: int
    target: str  # path and query, as sent in the request line


def parse_webhook_url(url: str, *, allow_http: bool) -> WebhookUrl:
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise UnsafeUrl("the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as bad:
        raise UnsafeUrl(f"not a valid URL: {bad}") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and allow_http):
        raise UnsafeUrl("the URL must be https" + ("" if allow_http else " (plain http is not allowed)"))
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("the URL may not contain a user name or password")
    if parts.fragment:
        raise UnsafeUrl("the URL may not contain a fragment")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeUrl("the URL has no host")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return WebhookUrl(url, scheme, host, port or (443 if scheme == "https" else 80), target)


def literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for: IPv4-mapped (::ffff:a.b.c.d), NAT64, 6to4, Teredo."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def forbidden_reason(address: IPAddress) -> str | None:
    """Why the service may not call `address`, or None for a globally routable unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            reason = forbidden_reason(inner)
            return f"{reason} (inside {address})" if reason else None
        if address.scope_id:
            return "link-local"
    if address in METADATA:
        return "a cloud metadata address"
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in CGNAT:
        return "shared address space (CGNAT)"
    if address.is_private:
        return "private"
    if address.is_reserved or not address.is_global:
        return "reserved"
    return None


def check_addresses(host: str, addresses: list[IPAddress], *, allow_private: bool) -> list[IPAddress]:
    """The addresses of `host` the service may connect to: all of them, or UnsafeUrl when any is forbidden
    (a name with one private address among public ones is refused: the connection could take either)."""
    if not addresses:
        raise UnsafeUrl(f"the host {host} has no address")
    if not allow_private:
        for address in addresses:
            reason = forbidden_reason(address)
            if reason is not None:
                raise UnsafeUrl(f"the host {host} resolves to {address}, which is {reason}")
    return addresses
