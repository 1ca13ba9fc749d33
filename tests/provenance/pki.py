"""Real test PKI for provenance tests: CAs, leaf certificates, a real RFC 3161 time-stamp
authority (``openssl ts -reply`` behind a local HTTP handler) and a request-counting server.

Nothing here is a fake: the certificates are real X.509, the TSA answers real RFC 3161 requests
with OpenSSL's implementation, and the counting server is a real HTTP server on loopback.
"""

from __future__ import annotations

import datetime as dt
import http.server
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

C2PA_CLAIM_SIGNING = ObjectIdentifier("1.3.6.1.4.1.62558.2.1")
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")


def _name(cn: str, org: str = "Test PKI") -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def key_pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


@dataclass
class CA:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def make(cls, cn: str) -> CA:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                             False, False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                               critical=False)
                .sign(key, hashes.SHA256()))
        return cls(key, cert)

    def issue(self, cn: str, *, serial: int | None = None, eku=None,
              not_after: dt.datetime | None = None,
              not_before: dt.datetime | None = None) -> tuple[ec.EllipticCurvePrivateKey,
                                                               x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        eku = eku or [C2PA_CLAIM_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]
        cert = (x509.CertificateBuilder().subject_name(_name(cn, "Test Signer"))
                .issuer_name(self.cert.subject).public_key(key.public_key())
                .serial_number(serial or x509.random_serial_number())
                .not_valid_before(not_before or now - dt.timedelta(minutes=5))
                .not_valid_after(not_after or now + dt.timedelta(days=30))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                               critical=True)
                .add_extension(x509.KeyUsage(True, True, False, False, False, False, False,
                                             False, False), critical=True)
                .add_extension(x509.ExtendedKeyUsage(eku), critical=eku == [
                    ExtendedKeyUsageOID.TIME_STAMPING])
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                               critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.key.public_key()), critical=False)
                .sign(self.key, hashes.SHA256()))
        return key, cert


def sign_with(data: bytes, manifest: dict, key, cert: x509.Certificate, ca: CA,
              tsa_url: str | None = None) -> bytes:
    """Sign ``data`` with an arbitrary certificate through the studio's own signing path."""
    from studio.core.provenance.identity import SigningIdentity
    from studio.core.provenance.signing import sign_bytes

    return sign_bytes(data, manifest, SigningIdentity(pem(cert), pem(ca.cert), key_pem(key)),
                      tsa_url=tsa_url)


_TSA_CONF = """
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@dataclass
class Counter:
    requests: list[str] = field(default_factory=list)


class _Server:
    def __init__(self, handler) -> None:
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class LocalTSA(_Server):
    """An RFC 3161 time-stamp authority: each POSTed TimeStampReq is answered by
    ``openssl ts -reply`` with a TSA certificate issued by ``self.ca``."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tsa-"))
        self.ca = CA.make("Test TSA Root")
        key, cert = self.ca.issue("Test Time Stamping", eku=[ExtendedKeyUsageOID.TIME_STAMPING])
        self.cert = cert
        (self.dir / "tsa.pem").write_text(pem(cert))
        (self.dir / "tsa.key").write_text(key_pem(key))
        (self.dir / "chain.pem").write_text(pem(cert) + pem(self.ca.cert))
        (self.dir / "serial").write_text("01\n")
        (self.dir / "tsa.cnf").write_text(_TSA_CONF.format(dir=self.dir))
        self.counter = Counter()
        tsa = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                tsa.counter.requests.append(self.path)
                reply = tsa.reply(body)
                self.send_response(200 if reply else 500)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:
                pass

        super().__init__(Handler)

    def reply(self, query: bytes) -> bytes:
        with tempfile.TemporaryDirectory(dir=self.dir) as tmp:
            q, r = Path(tmp) / "q.tsq", Path(tmp) / "r.tsr"
            q.write_bytes(query)
            out = subprocess.run(
                ["openssl", "ts", "-reply", "-config", str(self.dir / "tsa.cnf"),
                 "-queryfile", str(q), "-signer", str(self.dir / "tsa.pem"),
                 "-inkey", str(self.dir / "tsa.key"), "-chain", str(self.dir / "chain.pem"),
                 "-out", str(r)], capture_output=True, timeout=30)
            return r.read_bytes() if out.returncode == 0 and r.is_file() else b""

    @property
    def url(self) -> str:
        return self.base + "/tsa"


class CountingServer(_Server):
    """Serves ``self.body`` for any GET and counts every request it gets."""

    def __init__(self, body: bytes = b"") -> None:
        self.body = body
        self.counter = Counter()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.counter.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/c2pa")
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, *args) -> None:
                pass

        super().__init__(Handler)
