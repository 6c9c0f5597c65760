"""TLS: with a certificate and key the server speaks HTTPS and WSS on its one port (and nothing in clear
text); a certificate that cannot be loaded stops the start with one clear line."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

import httpx
import pytest
import socketio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.server.service import ServerStartError
from tests.server.conftest import start_runtime, stop_runtime
from tests.support.sim_fixtures import wait_until

pytestmark = [pytest.mark.slow]


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


async def test_https_and_wss_on_one_port(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    running = await start_runtime(tmp_path, tls_cert=str(cert), tls_key=str(key))
    try:
        assert running.url.startswith("https://127.0.0.1:")
        trusted = ssl.create_default_context(cafile=str(cert))
        async with httpx.AsyncClient(base_url=running.url, verify=trusted, timeout=30) as http:
            assert (await http.get("/api/health")).status_code == 200
            login = await http.post(
                "/api/login", json={"username": "admin", "password": "correct horse battery"}
            )
            token = login.json()["token"]
        with pytest.raises(httpx.HTTPError):  # no clear-text HTTP on that port
            async with httpx.AsyncClient(base_url=running.url.replace("https", "http"), timeout=10) as plain:
                await plain.get("/api/health")
        client = socketio.AsyncClient(reconnection=False, ssl_verify=False)
        hello: list[object] = []
        client.on("connected", lambda data: hello.append(data))
        await client.connect(running.url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
        try:
            await wait_until(lambda: hello)
            assert client.transport() == "websocket"
        finally:
            await client.disconnect()
    finally:
        await stop_runtime(running)


async def test_a_certificate_that_cannot_be_loaded_stops_the_start(tmp_path: Path) -> None:
    bad = tmp_path / "cert.pem"
    bad.write_text("not a certificate", encoding="utf-8")
    with pytest.raises(ServerStartError, match="cannot load the TLS certificate or key"):
        await start_runtime(tmp_path, tls_cert=str(bad), tls_key=str(bad))
