"""Commands for operators: keygen, init, up, node, status."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from chain.keyfile import save_key
from chain.keys import PrivateKey
from cli import common, demo
from cli.client import RpcClient, RpcFailure
from cli.output import print_json, print_table, short
from cli.runner import run_cluster
from node import eventloop
from node.setup import init_cluster
from node.tls import make_cluster_certificates


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("keygen", help="create an Ed25519 key file (PEM, mode 0600)")
    p.add_argument("file", type=Path)
    common.add_json(p)
    p.set_defaults(handler=keygen)

    p = sub.add_parser("init", help="create keys and genesis for the cluster (idempotent)")
    common.add_config(p)
    p.set_defaults(handler=init)

    p = sub.add_parser(
        "tls-init",
        help="create a local CA and a TLS certificate per node for [tls] (never overwrites)",
        description="Writes the CA (tls.ca_file, default <data_dir>/tls/ca.crt and ca.key) and "
        "each node's certificate and key (tls.cert_file / tls.key_file, default "
        "<data_dir>/tls/<id>.crt and .key), valid for the node's host, localhost and "
        "127.0.0.1. `init` and `up` run it when [tls] is enabled.",
    )
    common.add_config(p)
    p.set_defaults(handler=tls_init)

    p = sub.add_parser("up", help="run every node (and observer) of the cluster file locally")
    common.add_config(p)
    p.add_argument("--no-demo", action="store_true", help="do not seed demo polls")
    p.set_defaults(handler=up)

    p = sub.add_parser("node", help="run one node of the cluster file")
    common.add_config(p)
    p.add_argument("--id", required=True, help="the node id in the cluster file, e.g. n1")
    p.add_argument("--log-level", default="INFO")
    add_log_file(p, "<log_dir>/<id>.log")
    p.set_defaults(handler=node)

    p = sub.add_parser(
        "observer",
        help="run one observer of the cluster file (a read replica: no key, not in genesis)",
        description="Follows the chain from the validators by verified state transfer "
        "(every block's commit certificate checked against genesis), serves every read "
        "endpoint of the RPC at the observer's rpc_port and forwards submitted transactions "
        "to the validators. Listed as [[observers]] in the cluster file.",
    )
    common.add_config(p)
    p.add_argument("--id", required=True, help="the observer id in the cluster file, e.g. o1")
    p.add_argument("--log-level", default="INFO")
    add_log_file(p, "<log_dir>/<id>.log")
    p.set_defaults(handler=observer)

    p = sub.add_parser(
        "attester",
        help="run the phone-verification service (its own process, apart from validators)",
        description="Serves POST /v1/enroll/start and /v1/enroll/finish at [attester] host:port "
        "(or, with [[attesters]], at the host and port of --id), signs enrollments with the "
        "attester key and submits them to the validators. Refuses to start without a code "
        "sender (attester.sender).",
    )
    common.add_config(p)
    p.add_argument(
        "--id", help="which of [[attesters]] this instance is (needed when it lists several)"
    )
    p.add_argument("--log-level", default="INFO")
    add_log_file(p, "<log_dir>/attester.log, or <log_dir>/<id>.log")
    p.set_defaults(handler=attester)

    p = sub.add_parser(
        "status",
        help="height, view, primary, head and app hash of every node (observers: how far behind)",
    )
    common.add_config(p)
    p.add_argument("--rpc", help="ask only this node's RPC URL (default: every node of the file)")
    common.add_ca(p)
    common.add_json(p)
    p.set_defaults(handler=status)


def keygen(args: argparse.Namespace) -> int:
    key = PrivateKey.generate()
    save_key(key, args.file)
    if args.json:
        print_json({"file": str(args.file), "public_key": key.public_key.hex()})
    else:
        print(f"wrote {args.file}; public key {key.public_key.hex()}")
    return 0


def init(args: argparse.Namespace) -> int:
    config = common.config_of(args)
    result = init_cluster(config)
    for path in result.created:
        print(f"created {path}")
    if not result.created:
        print(f"already initialised: {config.genesis_path}")
    print(f"chain {result.genesis.chain_id}, genesis hash {result.genesis.genesis_hash.hex()}")
    for observer in config.observers:
        # Observers need no key and are not in genesis: `votechain observer` starts one.
        print(f"observer {observer.node_id}: RPC {observer.rpc_url}, follows the validators")
    if config.tls.enabled:
        for path in make_cluster_certificates(config):
            print(f"created {path}")
    return 0


def tls_init(args: argparse.Namespace) -> int:
    config = common.config_of(args)
    created = make_cluster_certificates(config)
    for path in created:
        print(f"created {path}")
    if not created:
        print(f"every node already has a certificate; CA {config.tls_ca_path}")
    if not config.tls.enabled:
        print("note: [tls] enabled = false in the cluster file; nodes still serve plain HTTP")
    return 0


def up(args: argparse.Namespace) -> int:
    config = common.config_of(args)
    init_cluster(config)
    if config.tls.enabled:
        make_cluster_certificates(config)

    def ready() -> None:
        # The web app first: it is what most people who ran `make up` want to open.
        web_url = (config.observers or config.nodes)[0].rpc_url
        print(f"web app: {web_url}/  (open it in a browser; every node serves it)")
        if not args.no_demo:
            demo.seed_if_fresh(config)
        print(f"votechain {config.chain_id}: {len(config.nodes)} nodes running")
        for address in config.nodes:
            print(
                f"  {address.node_id}: RPC {address.rpc_url}/v1/status  (peers {address.peer_url})"
            )
        for observer in config.observers:
            print(f"  {observer.node_id} (observer, reads): RPC {observer.rpc_url}/v1/status")
        for attester in config.attester_addresses:
            print(
                f"  attester {attester.attester_id} (phone verification): {attester.url}/v1/status"
            )
        print("stop with Ctrl-C")

    return run_cluster(config, common.config_path(args), ready)


def add_log_file(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--log-file",
        help=f"also log to this file (default {default}, [chain] log_dir in the cluster "
        "file); '-' logs to stderr only",
    )


def node(args: argparse.Namespace) -> int:
    from node.service import run_node
    from webapp import web_app_hook

    config = common.config_of(args)
    config.node(args.id)  # an unknown id fails here, before a log file is named after it
    log_file = _log_file(args, config.node_log_path(args.id))
    web_app = web_app_hook(config)  # the pages, and enrolment relayed to the attester
    return _serve_until_signalled(
        args, log_file, lambda stop: run_node(config, args.id, stop, web_app)
    )


def observer(args: argparse.Namespace) -> int:
    from node.observer import run_observer
    from webapp import web_app_hook

    config = common.config_of(args)
    config.observer(args.id)  # an unknown id fails here, before a log file is named after it
    log_file = _log_file(args, config.node_log_path(args.id))
    web_app = web_app_hook(config)  # the pages, and enrolment relayed to the attester
    return _serve_until_signalled(
        args, log_file, lambda stop: run_observer(config, args.id, stop, web_app)
    )


def attester(args: argparse.Namespace) -> int:
    from node.attester_service import run_attester

    config = common.config_of(args)
    # an unknown id (or none among several) fails here, before a log file is named after it
    attester_id = config.attester_address(args.id).attester_id
    log_file = _log_file(args, config.attester_log_path_of(attester_id))
    return _serve_until_signalled(
        args, log_file, lambda stop: run_attester(config, stop, attester_id)
    )


def _log_file(args: argparse.Namespace, default: Path) -> Path | None:
    if args.log_file == "-":
        return None
    return Path(args.log_file) if args.log_file else default


def _serve_until_signalled(
    args: argparse.Namespace,
    log_file: Path | None,
    serve: Callable[[asyncio.Event], Awaitable[None]],
) -> int:
    """Run a service until SIGINT or SIGTERM sets its stop event; log to stderr and, unless
    `log_file` is None, to that file too."""
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
        handlers.append(logging.FileHandler(log_file))
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        handlers=handlers,
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve(stop)

    eventloop.run(main())  # uvloop where installed (node/eventloop.py)
    return 0


def status(args: argparse.Namespace) -> int:
    if args.rpc:
        return _one_status(args, common.client_of(args).get("/v1/status"))
    config = common.config_of(args)
    statuses = []
    addresses = [(n.node_id, n.rpc_url) for n in config.nodes]
    addresses += [(o.node_id, o.rpc_url) for o in config.observers]
    for node_id, rpc_url in addresses:
        try:
            client = RpcClient(rpc_url, timeout_s=3, ca_file=args.ca or config.client_ca_path)
            statuses.append(client.get("/v1/status"))
        except RpcFailure as exc:
            statuses.append({"node": node_id, "error": str(exc)})
    if args.json:
        print_json(statuses)
        return 0 if all("error" not in s for s in statuses) else 1
    rows = []
    for s in statuses:
        if "error" in s:
            rows.append([s["node"], "down", "", "", "", "", ""])
            continue
        if s.get("role") == "observer":
            # An observer has no view and no peers: how far it trails the validators.
            rows.append(
                [
                    s["node"],
                    s["height"],
                    "",
                    "observer",
                    short(s["head_hash"]),
                    short(s["app_hash"]),
                    f"{s['behind_blocks']} behind",
                ]
            )
            continue
        peers = sum(1 for up in s["peers"].values() if up)
        rows.append(
            [
                s["node"],
                s["height"],
                s["view"],
                config.nodes[s["primary"]].node_id,
                short(s["head_hash"]),
                short(s["app_hash"]),
                f"{peers}/{len(s['peers'])}",
            ]
        )
    print_table(["node", "height", "view", "primary", "head", "app hash", "peers"], rows)
    return 0 if all("error" not in s for s in statuses) else 1


def _one_status(args: argparse.Namespace, status: dict[str, Any]) -> int:
    """`status --rpc URL`: that node's answer, as it gives it (no cluster file needed, so
    no node ids to name the primary by)."""
    if args.json:
        print_json(status)
    else:
        print_table(["field", "value"], [[k, v] for k, v in status.items() if k != "peers"])
    return 0
