"""TLS for the client RPC and the peer links ([tls] in cluster.toml; off by default).

When [tls] enabled is true every node serves its RPC as https:// and its peer port as
wss://, with the certificate and key of `ClusterConfig.tls_cert_path` / `tls_key_path`:

- RPC: server-side TLS only; clients (CLI, attester, verifier, other validators fetching
  blocks) check the node's certificate against the cluster's CA (`ca_file`).
- Peer links: mutual TLS. The dialer checks the listener's certificate (and its host
  name) against the CA and presents its own certificate; the listener refuses a dialer
  without a certificate the CA signed. The signed hello over the listener's fresh
  challenge (node/transport.py, PROTOCOL.md 12.10) still says which validator dialled:
  TLS keeps strangers and eavesdroppers out, the hello binds the link to a genesis key.

`make_cluster_certificates` is the local shortcut (`votechain tls-init`): a CA and one
certificate per node, valid for the node's host, "localhost" and 127.0.0.1, for both
server and client use. In production use your own CA; OPERATIONS.md has the openssl
commands.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from node.config import ClusterConfig, ConfigError

CERT_VALID_DAYS = 825
"""Node certificates: the longest lifetime common clients accept for a server certificate."""
CA_VALID_DAYS = 3650


def server_context(config: ClusterConfig, node_id: str, peers: bool) -> ssl.SSLContext | None:
    """The context a node's server uses, or None without TLS; `peers` also requires and
    checks a client certificate from the cluster's CA (the peer port)."""
    if not config.tls.enabled:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    _load_chain(context, config, node_id)
    if peers:
        _load_ca(context, config)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def client_context(config: ClusterConfig, node_id: str | None = None) -> ssl.SSLContext | None:
    """The context to dial a node with, trusting the cluster's CA, or None without TLS;
    with `node_id`, it presents that node's certificate (a validator dialling a peer)."""
    if not config.tls.enabled:
        return None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    _load_ca(context, config)
    if node_id is not None:
        _load_chain(context, config, node_id)
    return context


def make_cluster_certificates(config: ClusterConfig) -> list[Path]:
    """Create the CA and every node's certificate and key that do not exist yet (never
    overwriting a file); return the files created. Keys are written mode 0600."""
    created: list[Path] = []
    # Observers serve https to clients with a certificate of their own, like validators.
    hosts = {n.node_id: n.host for n in config.nodes}
    hosts.update((o.node_id, o.host) for o in config.observers)
    ca_cert_path = config.tls_ca_path
    ca_key_path = ca_cert_path.with_suffix(".key")
    if ca_cert_path.exists():
        if not ca_key_path.exists():
            missing = [n for n in hosts if not config.tls_cert_path(n).exists()]
            if missing:
                raise ConfigError(
                    f"{ca_cert_path} exists without its key {ca_key_path}: cannot sign "
                    f"certificates for {', '.join(missing)}; sign them with your CA"
                )
            return created
        ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), None)
        ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
        if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
            raise ConfigError(f"{ca_key_path} is not an EC key (made by votechain tls-init)")
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _ca_certificate(ca_key, config.chain_id)
        _write_key(ca_key_path, ca_key)
        _write(ca_cert_path, ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)
        created += [ca_cert_path, ca_key_path]
    for node_id, host in hosts.items():
        cert_path = config.tls_cert_path(node_id)
        key_path = config.tls_key_path(node_id)
        if cert_path.exists() and key_path.exists():
            continue
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _node_certificate(key, ca_key, ca_cert, node_id, host)
        _write_key(key_path, key)
        _write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
        created += [cert_path, key_path]
    return created


def _load_chain(context: ssl.SSLContext, config: ClusterConfig, node_id: str) -> None:
    cert, key = config.tls_cert_path(node_id), config.tls_key_path(node_id)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"[tls] is enabled but {node_id}'s certificate {cert} and key {key} cannot be "
            f"loaded ({exc}); run `votechain tls-init` or set tls.cert_file and tls.key_file"
        ) from exc


def _load_ca(context: ssl.SSLContext, config: ClusterConfig) -> None:
    try:
        context.load_verify_locations(cafile=config.tls_ca_path)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"[tls] is enabled but the CA file {config.tls_ca_path} cannot be loaded ({exc}); "
            "run `votechain tls-init` or set tls.ca_file"
        ) from exc


def _ca_certificate(key: ec.EllipticCurvePrivateKey, chain_id: str) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"votechain CA {chain_id}")])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _node_certificate(
    key: ec.EllipticCurvePrivateKey,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    node_id: str,
    host: str,
) -> x509.Certificate:
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    addresses = {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
    try:
        addresses.add(ipaddress.ip_address(host))
    except ValueError:
        names.append(x509.DNSName(host))
    names += [x509.IPAddress(a) for a in sorted(addresses, key=str)]
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, node_id)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CERT_VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            # Both: a validator serves (RPC, peer port) and dials its peers as a client.
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write(path, data, 0o600)


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
