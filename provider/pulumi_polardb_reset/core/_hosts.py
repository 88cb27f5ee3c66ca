"""Host names and addresses (pure: no DNS lookup, no socket)."""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str) -> bool:
    """Tell whether ``host`` names this machine without leaving it (no DNS lookup).

    True for ``localhost``, 127.0.0.0/8, ``::1`` and IPv4-mapped loopback (``::ffff:127.0.0.1``),
    with or without brackets; False for anything else, including names that might resolve
    to a loopback address.
    """
    name = host.strip().rstrip(".").lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # Python 3.11's is_loopback is False for ::ffff:127.0.0.1.
        return address.ipv4_mapped.is_loopback
    return address.is_loopback
