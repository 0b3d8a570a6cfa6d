"""cluster.toml: one file describes a cluster; each node picks its own entry by id.

Every field has a default except the node list, so a minimal file names the nodes only.
Paths are relative to the file's folder. Errors name the field and what was expected.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chain.block import BLOCK_OVERHEAD_MAX_BYTES, MAX_BLOCK_BYTES
from chain.errors import VotechainError
from chain.tx import MAX_TX_BYTES


class ConfigError(VotechainError):
    """cluster.toml is missing, malformed, or names something that does not exist."""


@dataclass(frozen=True)
class NodeAddress:
    node_id: str
    host: str
    peer_port: int
    rpc_port: int
    tls: bool = False
    """[tls] enabled: the node serves https:// and wss:// (set by parse_config)."""

    @property
    def rpc_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.rpc_port}"

    @property
    def peer_url(self) -> str:
        return f"{'wss' if self.tls else 'http'}://{self.host}:{self.peer_port}/peer"


@dataclass(frozen=True)
class ObserverAddress:
    """An observer ([[observers]]): no validator key, not in genesis, no peer port. It
    follows the chain from `sources` (default: the validators' RPC) by verified state
    transfer and serves the client RPC at rpc_url (node/observer.py)."""

    node_id: str
    host: str
    rpc_port: int
    sources: tuple[str, ...] = ()
    """RPC URLs to fetch blocks from, in turn; empty: every validator's rpc_url. Another
    observer serves too: every block is checked against genesis' validators anyway."""
    tls: bool = False

    @property
    def rpc_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.rpc_port}"


@dataclass(frozen=True)
class ConsensusSettings:
    tick_ms: int = 50
    batch_delay_ticks: int = 2
    max_block_txs: int = 500
    max_block_bytes: int = 7 * 1024 * 1024
    """Largest block this node proposes; a margin under the protocol's MAX_BLOCK_BYTES."""
    checkpoint_interval: int = 20
    watermark_window: int = 40
    request_timeout_ticks: int = 60
    max_clock_drift_ms: int = 5000


@dataclass(frozen=True)
class MempoolSettings:
    max_txs: int = 20_000
    max_tx_bytes: int = 65_536
    max_bytes: int = 64 * 1024 * 1024
    max_txs_per_signer: int = 64
    max_bytes_per_signer: int = 512 * 1024
    # Admission control (node/admission.py): a submission over one of these is refused
    # `busy` (503, Retry-After) before it is decoded, instead of queueing past what the
    # cluster commits (issue 13).
    max_queue_s: float = 1.0
    """This node's transactions waiting to commit may be at most this many seconds of
    what the cluster can commit of them (the most it was seen to, slowly forgotten; well
    under half the request timeout)."""
    min_queue_txs: int = 100
    """...but at least this many: the cold-start allowance, taken while the first blocks
    of a rush measure what the cluster commits (25 refused a quarter of an open-loop rush
    at 0.8x capacity, issue 13)."""
    max_loop_lag_ms: int = 250
    """Refuse while the event loop wakes the tick task later than this (smoothed)."""
    max_commit_waiters: int = 8_000
    """Clients waiting for a commit (wait=commit) at once."""


@dataclass(frozen=True)
class RpcSettings:
    max_body_bytes: int = 131_072
    commit_wait_timeout_s: float = 20.0
    # Connection limits (node/connlimit.py); the totals are also capped by the fd budget.
    max_connections: int = 1024
    max_connections_per_client: int = 64
    peer_max_connections: int = 64
    peer_max_connections_per_client: int = 16
    header_timeout_s: float = 10.0
    """A connection must send a complete first request head within this time."""
    idle_timeout_s: float = 30.0
    """An idle keep-alive connection (or a later request head that stalls) is closed."""
    # Heavy reads (node/readpool.py) and response sizes.
    read_threads: int = 2
    max_pending_reads: int = 8
    """Heavy reads running or queued; one more is answered `busy` (503) at once."""
    max_response_bytes: int = 4_194_304
    # Per-client rate limits (node/ratelimit.py): a token bucket per client address for
    # POST /v1/tx and one for the heavy reads. Mobile carriers put many citizens behind
    # one address (CGNAT), so these are generous: they stop one host from flooding a
    # node, not citizens from voting. Retry-After says when the next request passes.
    client_tx_burst: int = 200
    client_txs_per_s: float = 20.0
    client_read_burst: int = 400
    client_reads_per_s: float = 40.0
    trusted_proxies: tuple[str, ...] = ()
    """Reverse proxies whose X-Forwarded-For names the client; others' headers are ignored.
    Behind a proxy that is not listed, every client counts as the proxy's one address."""
    unlimited_clients: tuple[str, ...] = ("127.0.0.1", "::1")
    """Addresses never rate-limited (the cluster's validator hosts are added): loopback by
    default, so a local cluster, its tests and a same-host reverse proxy that is not in
    trusted_proxies (whose clients would otherwise share one bucket) are not limited."""
    public_url: str = ""
    """The web app's address as citizens reach it ("https://vote.example.go.kr"), for the
    absolute links it draws (a poll's QR code); "" takes each request's own host."""


@dataclass(frozen=True)
class ObserverSettings:
    """How observers follow the chain and forward transactions ([observer] in cluster.toml)."""

    poll_interval_ms: int = 200
    """An observer that is caught up asks its next source for a new block this often."""
    fast_poll_interval_ms: int = 50
    """The same while a client waits (wait=commit) for a transaction to commit here."""
    status_interval_ms: int = 1000
    """How often it asks a source for its height (to report how far behind it is)."""
    fetch_batch_blocks: int = 50
    """Blocks fetched from one source in a row before the next round."""
    forward_timeout_s: float = 5.0
    """A validator must answer a forwarded transaction within this; else the next one is tried."""
    page_cache_ms: int = 1000
    """A poll's page and its results are answered from a cache for this long, unless a
    block arrives meanwhile (a refresh storm costs one build per poll per interval). The
    pages may lag the clock by this much (a poll that just closed)."""


@dataclass(frozen=True)
class TlsSettings:
    """TLS on the client RPC and the peer links ([tls] in cluster.toml); off by default.

    Paths are relative to the cluster file's folder; "{node}" in cert_file and key_file
    stands for the node's id. Empty paths mean the files `votechain tls-init` writes under
    <data_dir>/tls/. Peer links are mutual TLS: the dialer checks the listener's
    certificate against ca_file and the listener requires a client certificate from it;
    the signed hello (PROTOCOL.md 12.10) still says which validator dialled."""

    enabled: bool = False
    ca_file: str = ""
    """The CA that signed every node's certificate; peers, the attester and clients trust it."""
    cert_file: str = ""
    """This node's certificate (PEM, chain after it); default <data_dir>/tls/{node}.crt."""
    key_file: str = ""
    """This node's private key (PEM); default <data_dir>/tls/{node}.key."""


@dataclass(frozen=True)
class AttesterSettings:
    """The phone-verification service (`votechain attester`), apart from the validators.

    Paths are relative to the cluster file's folder; empty means the default under
    <data_dir>/attester/, a folder only the attester reads (mode 0700).
    """

    host: str = "127.0.0.1"
    port: int = 8100
    pepper_file: str = ""
    """The HMAC pepper of phone ids (hex); default <data_dir>/attester/pepper."""
    key_file: str = ""
    """The attester's signing key, listed in genesis; default <data_dir>/attester/attester.pem."""
    code_ttl_s: int = 300
    max_attempts: int = 5
    """Wrong codes one session may try before it is void."""
    wrong_guess_budget: int = 10
    """Wrong codes one number may receive across all sessions within wrong_guess_window_s;
    the next locks the number out for wrong_guess_window_s."""
    wrong_guess_window_s: int = 86_400
    resend_interval_s: int = 60
    """Least time between two codes to one number, whoever asks."""
    max_codes_per_minute: int = 60
    """Codes sent to all numbers together per minute (the gateway costs money)."""
    # Per client address. Mobile carriers put many citizens behind one address (CGNAT),
    # so these stay generous; the per-number guess budget is what stops guessing, and the
    # global per-minute cap what bounds the SMS bill.
    client_start_burst: int = 10
    client_starts_per_hour: int = 60
    client_finish_burst: int = 20
    client_finishes_per_hour: int = 120
    trusted_proxies: tuple[str, ...] = ()
    """Reverse proxies whose X-Forwarded-For names the client; others' headers are ignored."""
    allowed_country_codes: tuple[str, ...] = ("82",)
    # Roll phone ids for organisations (POST /v1/roll/phone-ids, docs/adr/007). The daily
    # quota bounds what a stolen org key can map: at 100,000 numbers a day, probing every
    # 010 number (10^8) would take three years, and the metrics show it on the first day.
    roll_phones_per_org_per_day: int = 100_000
    """Numbers one organisation may turn into phone ids per day (a token bucket, split
    among the attester instances); raise it for the days a large roll is built."""
    client_roll_burst: int = 60
    client_rolls_per_hour: int = 3_600
    """Roll requests (up to 1,000 numbers each) per client address."""
    sender: str = ""
    """How codes reach phones: "http" (an SMS gateway), "dev_outbox" (files, development
    only) or empty: no sender, and the attester refuses to start."""
    gateway_url: str = ""
    gateway_token_file: str = ""
    gateway_timeout_s: float = 5.0
    gateway_attempts: int = 3

    @property
    def url(self) -> str:
        """The first attester instance's URL (with [[attesters]], the first listed)."""
        return f"http://{self.host}:{self.port}"


DEFAULT_ATTESTER_ID = "attester"
"""The id of the one attester instance of a file without [[attesters]] (log attester.log)."""
MAX_ATTESTER_ID_CHARS = 32


@dataclass(frozen=True)
class AttesterAddress:
    """One instance of the attester service ([[attesters]]; without that list, the one at
    [attester] host and port, id "attester"). Every instance shares [attester]'s key,
    pepper, sender and limits (docs/adr/008); its id prefixes the session tokens it hands
    out, so a finish can be sent back to it."""

    attester_id: str
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass(frozen=True)
class ClusterConfig:
    chain_id: str
    data_dir: Path
    nodes: tuple[NodeAddress, ...]
    observers: tuple[ObserverAddress, ...] = ()
    consensus: ConsensusSettings = field(default_factory=ConsensusSettings)
    mempool: MempoolSettings = field(default_factory=MempoolSettings)
    rpc: RpcSettings = field(default_factory=RpcSettings)
    attester: AttesterSettings = field(default_factory=AttesterSettings)
    observer_settings: ObserverSettings = field(default_factory=ObserverSettings)
    """[observer]: settings shared by every observer of [[observers]]."""
    tls: TlsSettings = field(default_factory=TlsSettings)
    attesters: tuple[AttesterAddress, ...] = ()
    """[[attesters]]: the attester instances; empty: one, at [attester] host and port."""
    source: Path | None = None
    log_dir_setting: Path | None = None
    """[chain] log_dir, resolved; None: the default beside the data directory."""

    def node(self, node_id: str) -> NodeAddress:
        for address in self.nodes:
            if address.node_id == node_id:
                return address
        known = ", ".join(n.node_id for n in self.nodes)
        raise ConfigError(f"no node {node_id!r} in {self.source}; it lists {known}")

    def observer(self, observer_id: str) -> ObserverAddress:
        for address in self.observers:
            if address.node_id == observer_id:
                return address
        known = ", ".join(o.node_id for o in self.observers) or "none"
        raise ConfigError(f"no observer {observer_id!r} in {self.source}; it lists {known}")

    def observer_sources(self, observer_id: str) -> tuple[str, ...]:
        """The RPC URLs observer `observer_id` follows the chain from, in turn."""
        return self.observer(observer_id).sources or tuple(n.rpc_url for n in self.nodes)

    def replica_id(self, node_id: str) -> int:
        return [n.node_id for n in self.nodes].index(self.node(node_id).node_id)

    def node_dir(self, node_id: str) -> Path:
        return self.data_dir / node_id

    @property
    def log_dir(self) -> Path:
        """Where node and attester logs go: [chain] log_dir, by default `<data_dir>-logs`
        beside the data directory, never inside it, so a data disk that fills up does not
        also silence the log that would say so (put it on another disk in production)."""
        if self.log_dir_setting is not None:
            return self.log_dir_setting
        return self.data_dir.with_name(self.data_dir.name + "-logs")

    def node_log_path(self, node_id: str) -> Path:
        return self.log_dir / f"{node_id}.log"

    @property
    def attester_log_path(self) -> Path:
        return self.attester_log_path_of(DEFAULT_ATTESTER_ID)

    def attester_log_path_of(self, attester_id: str) -> Path:
        """<log_dir>/<id>.log: ids are unique among nodes, observers and attesters."""
        return self.log_dir / f"{attester_id}.log"

    @property
    def attester_addresses(self) -> tuple[AttesterAddress, ...]:
        """Every attester instance, in the order clients try them."""
        if self.attesters:
            return self.attesters
        settings = self.attester
        return (AttesterAddress(DEFAULT_ATTESTER_ID, settings.host, settings.port),)

    def attester_address(self, attester_id: str | None) -> AttesterAddress:
        """The instance `attester_id`; None names the only one (an error if there are more)."""
        addresses = self.attester_addresses
        known = ", ".join(a.attester_id for a in addresses)
        if attester_id is None:
            if len(addresses) == 1:
                return addresses[0]
            raise ConfigError(f"{self.source} lists attesters {known}: name one with --id")
        for address in addresses:
            if address.attester_id == attester_id:
                return address
        raise ConfigError(f"no attester {attester_id!r} in {self.source}; it lists {known}")

    @property
    def keys_dir(self) -> Path:
        """Keys of the cluster's roles (admin, demo org, attester): for local set-ups."""
        return self.data_dir / "keys"

    @property
    def genesis_path(self) -> Path:
        return self.data_dir / "genesis.json"

    @property
    def attester_dir(self) -> Path:
        """The attester's own folder (mode 0700): key, pepper, development outbox, log."""
        return self.data_dir / "attester"

    @property
    def attester_pepper_path(self) -> Path:
        return self._attester_path(self.attester.pepper_file, "pepper")

    @property
    def attester_key_path(self) -> Path:
        return self._attester_path(self.attester.key_file, "attester.pem")

    @property
    def attester_outbox(self) -> Path:
        return self.attester_dir / "outbox"

    def resolve_path(self, configured: str) -> Path:
        """A path from the cluster file, relative to the file's folder."""
        base = self.source.parent if self.source is not None else Path.cwd()
        return (base / configured).resolve()

    def _attester_path(self, configured: str, default_name: str) -> Path:
        return self.resolve_path(configured) if configured else self.attester_dir / default_name

    @property
    def tls_dir(self) -> Path:
        """Where `votechain tls-init` writes the local CA and node certificates."""
        return self.data_dir / "tls"

    @property
    def tls_ca_path(self) -> Path:
        return self.resolve_path(self.tls.ca_file) if self.tls.ca_file else self.tls_dir / "ca.crt"

    @property
    def client_ca_path(self) -> Path | None:
        """The CA a client of this cluster's RPC trusts: tls_ca_path under [tls], else None."""
        return self.tls_ca_path if self.tls.enabled else None

    def tls_cert_path(self, node_id: str) -> Path:
        configured = self.tls.cert_file.replace("{node}", node_id)
        return self.resolve_path(configured) if configured else self.tls_dir / f"{node_id}.crt"

    def tls_key_path(self, node_id: str) -> Path:
        configured = self.tls.key_file.replace("{node}", node_id)
        return self.resolve_path(configured) if configured else self.tls_dir / f"{node_id}.key"

    def with_data_dir(self, data_dir: Path) -> ClusterConfig:
        return replace(self, data_dir=data_dir)


def load_config(path: Path | str) -> ClusterConfig:
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"no cluster file at {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    return parse_config(document, path)


def parse_config(document: dict[str, Any], path: Path) -> ClusterConfig:
    chain = _table(document, "chain", path)
    raw_nodes = document.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise ConfigError(f"{path}: [[nodes]] must list at least one node")
    tls = _section(TlsSettings, _table(document, "tls", path), path)
    nodes = tuple(replace(_node(entry, path), tls=tls.enabled) for entry in raw_nodes)
    raw_observers = document.get("observers", [])
    if not isinstance(raw_observers, list):
        raise ConfigError(f"{path}: [[observers]] must be a list of tables")
    observers = tuple(replace(_observer(entry, path), tls=tls.enabled) for entry in raw_observers)
    attester_table = _table(document, "attester", path)
    attesters = _attesters(document.get("attesters"), attester_table, path)
    # Observers' data directories sit beside the nodes' (<data_dir>/<id>), and every log
    # is <log_dir>/<id>.log, so node, observer and attester ids are shared.
    ids = [n.node_id for n in nodes] + [o.node_id for o in observers]
    ids += [a.attester_id for a in attesters] or [DEFAULT_ATTESTER_ID]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{path}: node, observer and attester ids must be unique, got {ids}")
    attester = _attester(attester_table, path)
    if attesters:
        # [attester].url stays the first instance's, for callers that want one address.
        attester = replace(attester, host=attesters[0].host, port=attesters[0].port)
    _check_attester_shares(attester, max(1, len(attesters)), path)
    config = ClusterConfig(
        chain_id=str(chain.get("chain_id", "votechain-local-1")),
        data_dir=(path.parent / str(chain.get("data_dir", "data"))).resolve(),
        log_dir_setting=(
            (path.parent / str(chain["log_dir"])).resolve() if chain.get("log_dir") else None
        ),
        nodes=nodes,
        observers=observers,
        consensus=_section(ConsensusSettings, _table(document, "consensus", path), path),
        mempool=_section(MempoolSettings, _table(document, "mempool", path), path),
        rpc=_rpc(_table(document, "rpc", path), path),
        attester=attester,
        attesters=attesters,
        observer_settings=_section(ObserverSettings, _table(document, "observer", path), path),
        tls=tls,
        source=path,
    )
    _check_block_bytes(config.consensus.max_block_bytes, path)
    return config


def _check_block_bytes(max_block_bytes: int, path: Path) -> None:
    """The proposer's budget must hold one largest transaction and obey the protocol."""
    smallest = BLOCK_OVERHEAD_MAX_BYTES + MAX_TX_BYTES
    if not smallest <= max_block_bytes <= MAX_BLOCK_BYTES:
        raise ConfigError(
            f"{path}: consensus.max_block_bytes must be between {smallest} and "
            f"{MAX_BLOCK_BYTES} (the protocol limit), got {max_block_bytes}"
        )


def _rpc(table: dict[str, Any], path: Path) -> RpcSettings:
    table = dict(table)
    lists = {
        name: _strings(table.pop(name), f"rpc.{name}", path)
        for name in ("trusted_proxies", "unlimited_clients")
        if name in table
    }
    settings: RpcSettings = replace(_section(RpcSettings, table, path), **lists)
    if settings.public_url:
        _check_public_url(settings.public_url, path)
    return settings


def _check_public_url(url: str, path: Path) -> None:
    """An http(s) origin: a QR code drawn from it must lead nowhere but the web app."""
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or "@" in parts.netloc
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or any(c.isspace() for c in url)
    ):
        raise ConfigError(
            f"{path}: rpc.public_url must be the web app's address, such as "
            f'"https://vote.example.go.kr", got {url!r}'
        )


def _strings(value: Any, name: str, path: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {name} must be a list of strings")
    return tuple(value)


def _attester(table: dict[str, Any], path: Path) -> AttesterSettings:
    table = dict(table)
    if "node" in table or "dev_outbox" in table:
        raise ConfigError(
            f"{path}: attester.node and attester.dev_outbox are gone: the attester is its own "
            "service (`votechain attester`) at attester.host and attester.port, and "
            'attester.sender = "dev_outbox" selects the development outbox'
        )
    lists = {}
    for name in ("trusted_proxies", "allowed_country_codes"):
        if name in table:
            value = table.pop(name)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{path}: attester.{name} must be a list of strings")
            lists[name] = tuple(value)
    for code in lists.get("allowed_country_codes", ()):
        if not (code.isascii() and code.isdigit() and 1 <= len(code) <= 3):
            raise ConfigError(
                f"{path}: attester.allowed_country_codes holds {code!r}; a country code is "
                "1 to 3 digits without '+', e.g. \"82\""
            )
    settings: AttesterSettings = replace(_section(AttesterSettings, table, path), **lists)
    if settings.sender not in ("", "dev_outbox", "http"):
        raise ConfigError(
            f'{path}: attester.sender must be "http" or "dev_outbox", got {settings.sender!r}'
        )
    return settings


def _attesters(raw: Any, attester_table: dict[str, Any], path: Path) -> tuple[AttesterAddress, ...]:
    """[[attesters]]: id, host, port of each instance; the rest is [attester]'s, shared."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{path}: [[attesters]] must list at least one attester (a table each)")
    placed = sorted({"host", "port"} & set(attester_table))
    if placed:
        raise ConfigError(
            f"{path}: [attester] sets {', '.join(placed)} and [[attesters]] lists instances; "
            "give each instance's host and port in [[attesters]] only"
        )
    addresses = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: each [[attesters]] entry must be a table")
        unknown = set(entry) - {"id", "host", "port"}
        if unknown:
            raise ConfigError(
                f"{path}: an [[attesters]] entry has unknown keys {sorted(unknown)}; known: id, "
                "host, port (key, pepper, sender and limits are [attester]'s, shared by all)"
            )
        attester_id = entry.get("id")
        if not (
            isinstance(attester_id, str)
            and 1 <= len(attester_id) <= MAX_ATTESTER_ID_CHARS
            and all(c.isascii() and (c.isalnum() or c in "-_") for c in attester_id)
        ):
            raise ConfigError(
                f"{path}: an [[attesters]] id must be 1 to {MAX_ATTESTER_ID_CHARS} ASCII letters, "
                f"digits, '-' or '_' (it prefixes session tokens), got {attester_id!r}"
            )
        port = entry.get("port")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ConfigError(
                f"{path}: attester {attester_id}: port must be 1..65535, got {port!r}"
            )
        host = entry.get("host", "127.0.0.1")
        if not isinstance(host, str) or not host:
            raise ConfigError(f"{path}: attester {attester_id}: host must be a string")
        addresses.append(AttesterAddress(attester_id, host, port))
    return tuple(addresses)


def _check_attester_shares(settings: AttesterSettings, instances: int, path: Path) -> None:
    """Each instance enforces its share of the cluster-wide budgets (node/attester.py
    AttesterLimits.shared_by); a share below one would let k instances exceed the figure."""
    for name in ("wrong_guess_budget", "max_codes_per_minute"):
        if getattr(settings, name) < instances:
            raise ConfigError(
                f"{path}: attester.{name} ({getattr(settings, name)}) is split among the "
                f"{instances} attesters of [[attesters]], so it must be at least {instances}"
            )


def _table(document: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    return table


def _node(entry: Any, path: Path) -> NodeAddress:
    if not isinstance(entry, dict):
        raise ConfigError(f"{path}: each [[nodes]] entry must be a table")
    try:
        return NodeAddress(
            node_id=str(entry["id"]),
            host=str(entry.get("host", "127.0.0.1")),
            peer_port=int(entry["peer_port"]),
            rpc_port=int(entry["rpc_port"]),
        )
    except KeyError as exc:
        raise ConfigError(f"{path}: a [[nodes]] entry lacks {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: a [[nodes]] entry has a bad port: {exc}") from exc


def _observer(entry: Any, path: Path) -> ObserverAddress:
    if not isinstance(entry, dict):
        raise ConfigError(f"{path}: each [[observers]] entry must be a table")
    unknown = set(entry) - {"id", "host", "rpc_port", "sources"}
    if unknown:
        raise ConfigError(
            f"{path}: an [[observers]] entry has unknown keys {sorted(unknown)}; known: id, "
            "host, rpc_port, sources (observers have no peer port: they never join consensus)"
        )
    sources = _strings(entry.get("sources", []), "observers.sources", path)
    for url in sources:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{path}: observers.sources holds {url!r}; give http(s)://host:port")
    try:
        return ObserverAddress(
            node_id=str(entry["id"]),
            host=str(entry.get("host", "127.0.0.1")),
            rpc_port=int(entry["rpc_port"]),
            sources=tuple(url.rstrip("/") for url in sources),
        )
    except KeyError as exc:
        raise ConfigError(f"{path}: an [[observers]] entry lacks {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: an [[observers]] entry has a bad port: {exc}") from exc


def _section(cls: type[Any], table: dict[str, Any], path: Path) -> Any:
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for name, value in table.items():
        if name not in known:
            raise ConfigError(f"{path}: unknown setting {name!r}; known: {', '.join(known)}")
        default = known[name].default
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ConfigError(f"{path}: {name} must be true or false")
        if isinstance(default, str) and not isinstance(value, str):
            raise ConfigError(f"{path}: {name} must be a string")
        is_number = isinstance(default, int | float) and not isinstance(default, bool)
        positive = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
        if is_number and not positive:
            raise ConfigError(f"{path}: {name} must be a positive number, got {value!r}")
        values[name] = value
    return cls(**values)
