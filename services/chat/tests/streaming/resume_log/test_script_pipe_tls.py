"""The pipelined script connection over TLS (``rediss://``) to the real Redis, through a
TLS-terminating proxy with a certificate from a CA made here: the certificate is checked
against ``ssl_ca_certs`` as redis-py would, and refused without it."""

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chat.streaming.resume_log.script_pipe import ScriptPipe


def certificate(subject: str, key, issuer_key, issuer_name: x509.Name | None, *, ca: bool):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False),
            critical=True,
        ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        ).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key) as PEM files."""
    ca_key, server_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca = certificate("test CA", ca_key, ca_key, None, ca=True)
    server = certificate("127.0.0.1", server_key, ca_key, ca.subject, ca=False)
    files = tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server.key"
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


@contextlib.asynccontextmanager
async def tls_proxy(redis_url: str, cert: Path, key: Path) -> AsyncIterator[int]:
    """A TLS server on 127.0.0.1 whose connections are piped, decrypted, to Redis."""
    target = urlsplit(redis_url)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(
            target.hostname, target.port or 6379
        )
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def test_a_script_runs_over_tls_with_the_urls_ca_and_the_server_is_checked(
    redis_url, tls_files
):
    ca, cert, key = tls_files
    db = urlsplit(redis_url).path.strip("/")
    async with tls_proxy(redis_url, cert, key) as port:
        trusted = ScriptPipe(f"rediss://127.0.0.1:{port}/{db}?ssl_ca_certs={ca}", "return 7")
        untrusted = ScriptPipe(f"rediss://127.0.0.1:{port}/{db}", "return 7")
        try:
            await trusted.connect()
            answer = await trusted.call([], [])
            with pytest.raises(ssl.SSLCertVerificationError):
                await untrusted.connect()
        finally:
            await trusted.aclose()
            await untrusted.aclose()
    assert answer == 7


def test_a_tls_requirement_redis_py_would_not_know_is_refused():
    with pytest.raises(ValueError, match="ssl_cert_reqs"):
        ScriptPipe("rediss://127.0.0.1:6380/0?ssl_cert_reqs=sometimes", "return 1")
