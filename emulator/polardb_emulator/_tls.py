"""TLS for ``--tls``: a throw-away CA and a server certificate made with trustme."""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme

from ._files import write_replacing

CA_FILE_NAME = "polardb-emulator-ca.pem"


def make_server_context(ca_dir: Path) -> tuple[ssl.SSLContext, Path]:
    """Return a server SSL context for 127.0.0.1/localhost/::1 and the CA PEM path.

    The CA is written to ``ca_dir`` (created if needed), replacing whatever is
    at its path without following a symlink.
    """
    ca = trustme.CA(organization_name="PolarDB emulator")
    cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
    ca_file = ca_dir / CA_FILE_NAME
    write_replacing(ca_file, ca.cert_pem.bytes(), 0o644)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context, ca_file
