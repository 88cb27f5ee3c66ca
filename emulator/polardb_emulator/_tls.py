"""TLS for ``--tls``: a throw-away CA and a server certificate made with trustme."""

from __future__ import annotations

import ssl
import tempfile
from pathlib import Path

import trustme


def make_server_context(ca_dir: Path | None = None) -> tuple[ssl.SSLContext, Path]:
    """Return a server SSL context for 127.0.0.1/localhost/::1 and the CA PEM path.

    The CA is written to ``ca_dir`` (created if needed) or a fresh temp dir.
    """
    ca = trustme.CA(organization_name="PolarDB emulator")
    cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
    directory = ca_dir if ca_dir is not None else Path(tempfile.mkdtemp(prefix="polardb-emulator-"))
    directory.mkdir(parents=True, exist_ok=True)
    ca_file = directory / "polardb-emulator-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context, ca_file
