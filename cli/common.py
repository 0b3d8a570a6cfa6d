"""Options and look-ups shared by the CLI's commands."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.client import RpcClient, RpcFailure
from node.config import ClusterConfig, load_config

DEFAULT_CONFIG = "cluster.toml"


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c", "--config", default=DEFAULT_CONFIG, help="cluster file (default: cluster.toml)"
    )


def add_rpc(parser: argparse.ArgumentParser) -> None:
    add_config(parser)
    parser.add_argument(
        "--rpc", help="a node's RPC URL (default: the first node of the cluster file that answers)"
    )
    add_ca(parser)


def add_ca(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ca",
        type=Path,
        help="CA certificate to trust for https:// nodes (default: [tls] ca_file of the "
        "cluster file when [tls] is enabled, else the system's CAs)",
    )


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for machines")


def config_of(args: argparse.Namespace) -> ClusterConfig:
    return load_config(Path(args.config))


def client_of(args: argparse.Namespace) -> RpcClient:
    """The --rpc node, or the first node of the cluster file that answers."""
    if getattr(args, "rpc", None):
        return RpcClient(args.rpc, ca_file=_ca_of(args))
    config = config_of(args)
    ca_file = getattr(args, "ca", None) or config.client_ca_path
    errors = []
    urls = [address.rpc_url for address in config.nodes]
    for address in config.nodes:
        # The other nodes are its fallbacks: a transaction goes on to them when this one
        # is behind, cannot commit, is stopping or stops answering (cli/txs.py).
        client = RpcClient(address.rpc_url, timeout_s=30, fallbacks=urls, ca_file=ca_file)
        try:
            RpcClient(address.rpc_url, timeout_s=2, ca_file=ca_file).get("/v1/status")
            return client
        except RpcFailure as exc:
            errors.append(f"{address.node_id}: {exc}")
    raise RpcFailure(
        "no node of the cluster answers (is it running? `make up`): " + "; ".join(errors)
    )


def _ca_of(args: argparse.Namespace) -> Path | None:
    """--ca, else the cluster file's CA when the file exists and enables [tls]."""
    if getattr(args, "ca", None):
        ca: Path = args.ca
        return ca
    if Path(args.config).exists():
        return config_of(args).client_ca_path
    return None


def attester_client(args: argparse.Namespace) -> RpcClient:
    """The --attester URL, or the attester service of the cluster file (never a validator:
    validators do not verify phones)."""
    if getattr(args, "attester", None):
        return RpcClient(args.attester)
    return RpcClient(config_of(args).attester.url)
