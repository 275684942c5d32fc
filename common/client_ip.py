"""Who sent a request, as far as the proxies in front of the portal vouch for it: for the audit
log, the login lockout (axes), the metrics' loopback rule and the API's throttle."""

import ipaddress
from functools import cache

from django.conf import settings


@cache
def _trusted_networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _is_trusted(address, networks) -> bool:
    return any(address in network for network in networks)


def _parse_ip(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The address of the client that sent `request`.

    X-Forwarded-For is anyone's to write, so it is believed only as far as trusted proxies
    (settings.TRUSTED_PROXIES, addresses or networks) vouch for it: walk it from the right,
    past each trusted hop, and the first untrusted address is the client. A request that did
    not come from a trusted proxy is answered with its own peer address.
    """
    peer = _parse_ip(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return None
    networks = _trusted_networks(tuple(settings.TRUSTED_PROXIES))
    client = peer
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    while _is_trusted(client, networks) and hops:
        hop = _parse_ip(hops.pop())
        if hop is None:
            break
        client = hop
    return str(client)
