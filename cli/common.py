"""Options and look-ups shared by the CLI's commands."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from cli.client import RpcClient, RpcFailure
from node.config import ClusterConfig, ConfigError, load_config

CONFIG_NAME = "cluster.toml"
CONFIG_ENV = "VOTECHAIN_CONFIG"
"""A cluster file to use when -c is not given (before looking for cluster.toml)."""


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        help=f"cluster file (default: ${CONFIG_ENV}, else {CONFIG_NAME} in this folder or "
        "the nearest folder above it)",
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
    parser.add_argument(
        "--json",
        action="store_true",
        help='print JSON for machines (a failure: {"error": code, "message": text} on stdout)',
    )


def config_path(args: argparse.Namespace) -> Path:
    """-c, else $VOTECHAIN_CONFIG, else cluster.toml here or in the nearest folder above,
    so a command run from a subfolder of the cluster's folder finds its cluster."""
    given: Path | None = getattr(args, "config", None)
    if given is not None:
        return given
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env)
    found = find_config(Path.cwd())
    if found is None:
        raise ConfigError(
            f"no {CONFIG_NAME} in {Path.cwd()} or any folder above it: give -c FILE, set "
            f"{CONFIG_ENV}=FILE, or --rpc URL for a node"
        )
    return found


def find_config(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def config_of(args: argparse.Namespace) -> ClusterConfig:
    return load_config(config_path(args))


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
    """--ca, else the cluster file's CA when a cluster file is found and enables [tls]."""
    if getattr(args, "ca", None):
        ca: Path = args.ca
        return ca
    try:
        return config_of(args).client_ca_path
    except ConfigError:
        return None  # --rpc needs no cluster file


def attester_client(args: argparse.Namespace) -> RpcClient:
    """The --attester URL, or the attester service of the cluster file (never a validator:
    validators do not verify phones)."""
    if getattr(args, "attester", None):
        return RpcClient(args.attester)
    return RpcClient(config_of(args).attester.url)
