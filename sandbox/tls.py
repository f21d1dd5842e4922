"""HTTPS for the sandbox: a throw-away self-signed certificate for 127.0.0.1, made at start-up.

Real Slack is only reachable over TLS, and a TLS handshake per request costs far more CPU than a
plain connection; benches that measure the bot's transport run the sandbox with `tls=True`. The
key and certificate are written to a temporary folder that `close()` removes: nothing to commit.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import tempfile
from pathlib import Path


class ThrowawayCertificate:
    """A key and a self-signed certificate for 127.0.0.1 and localhost, valid for a day."""

    def __init__(self) -> None:
        openssl = shutil.which("openssl")
        if openssl is None:
            raise RuntimeError("the sandbox needs the openssl command to serve TLS")
        self.folder = Path(tempfile.mkdtemp(prefix="sandbox-tls-"))
        self.key_file = self.folder / "key.pem"
        self.cert_file = self.folder / "cert.pem"
        subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                        "-keyout", str(self.key_file), "-out", str(self.cert_file)],
                       check=True, capture_output=True)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """What a client trusts to reach the sandbox (verification stays on)."""
        return ssl.create_default_context(cafile=str(self.cert_file))

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
