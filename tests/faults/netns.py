"""Network namespaces for a cluster: one per node, joined by a bridge, partitions by route.

Layout (all addresses private, assigned here, in a /24 of 10.231.0.0/16 that no route of
this machine uses yet):

    <tag>h    the hub namespace, holding bridge br0
    <tag>nK   node K's namespace: eth0 = 10.231.S.K (veth, its other end on br0)
    <tag>d    a veth in the test's own namespace, 10.231.S.254, its other end on br0

The test process (root namespace) reaches every node through <tag>d, so a partition
between nodes never cuts the test's view of them. A partition is a blackhole route in a
node's namespace for each address it must not reach: packets are dropped silently both
ways (replies cannot route back), exactly what a cut cable looks like to TCP.
Everything is torn down by `close`, also after a failed test.
"""

from __future__ import annotations

import secrets
import subprocess

DRIVER_HOST = 254
SUBNET_PREFIX = "10.231"


class NetnsUnavailable(RuntimeError):
    """This machine (or user) cannot create network namespaces."""


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise NetnsUnavailable(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result


class NodeNetwork:
    """The namespaces, links and addresses of one cluster's nodes."""

    def __init__(self, node_count: int) -> None:
        self.tag = "vc" + secrets.token_hex(2)
        self.subnet = self._free_subnet()
        self.node_count = node_count
        self._namespaces: list[str] = []
        self._driver_link = f"{self.tag}d"
        self.cuts: set[tuple[int, int]] = set()
        try:
            self._build()
        except NetnsUnavailable:
            self.close()
            raise

    def address(self, index: int) -> str:
        """Node `index`'s address (index from 0)."""
        return f"{SUBNET_PREFIX}.{self.subnet}.{index + 1}"

    @property
    def driver_address(self) -> str:
        """The test's own address on the bridge (its veth), where clients connect from."""
        return f"{SUBNET_PREFIX}.{self.subnet}.{DRIVER_HOST}"

    def namespace(self, index: int) -> str:
        return f"{self.tag}n{index + 1}"

    def exec_prefix(self, index: int) -> list[str]:
        """The command prefix that runs a program in node `index`'s namespace."""
        return ["ip", "netns", "exec", self.namespace(index)]

    def cut(self, a: int, b: int) -> None:
        """Drop all traffic between nodes a and b (both directions)."""
        if (min(a, b), max(a, b)) in self.cuts:
            return
        _ip("-n", self.namespace(a), "route", "add", "blackhole", self.address(b) + "/32")
        _ip("-n", self.namespace(b), "route", "add", "blackhole", self.address(a) + "/32")
        self.cuts.add((min(a, b), max(a, b)))

    def partition(self, side: set[int]) -> None:
        """Cut every link between `side` and the other nodes."""
        for a in side:
            for b in range(self.node_count):
                if b not in side:
                    self.cut(a, b)

    def heal(self) -> None:
        for a, b in sorted(self.cuts):
            _ip(
                "-n",
                self.namespace(a),
                "route",
                "del",
                "blackhole",
                self.address(b) + "/32",
                check=False,
            )
            _ip(
                "-n",
                self.namespace(b),
                "route",
                "del",
                "blackhole",
                self.address(a) + "/32",
                check=False,
            )
        self.cuts.clear()

    def close(self) -> None:
        _ip("link", "del", self._driver_link, check=False)
        for name in reversed(self._namespaces):
            _ip("netns", "del", name, check=False)
        self._namespaces.clear()

    def _free_subnet(self) -> int:
        used = _ip("-4", "addr", "show", check=False).stdout
        for _ in range(64):
            subnet = secrets.randbelow(250) + 1
            if f" {SUBNET_PREFIX}.{subnet}." not in used:
                return subnet
        raise NetnsUnavailable("no free 10.231.x.0/24 subnet")

    def _add_namespace(self, name: str) -> None:
        _ip("netns", "add", name)
        self._namespaces.append(name)
        _ip("-n", name, "link", "set", "lo", "up")

    def _build(self) -> None:
        hub = f"{self.tag}h"
        self._add_namespace(hub)
        _ip("-n", hub, "link", "add", "br0", "type", "bridge")
        _ip("-n", hub, "link", "set", "br0", "up")
        for index in range(self.node_count):
            name = self.namespace(index)
            self._add_namespace(name)
            port = f"p{index + 1}"
            _ip(
                "-n",
                name,
                "link",
                "add",
                "eth0",
                "type",
                "veth",
                "peer",
                "name",
                port,
                "netns",
                hub,
            )
            _ip("-n", name, "addr", "add", self.address(index) + "/24", "dev", "eth0")
            _ip("-n", name, "link", "set", "eth0", "up")
            _ip("-n", hub, "link", "set", port, "master", "br0", "up")
        _ip("link", "add", self._driver_link, "type", "veth", "peer", "name", "drv", "netns", hub)
        _ip(
            "addr",
            "add",
            f"{SUBNET_PREFIX}.{self.subnet}.{DRIVER_HOST}/24",
            "dev",
            self._driver_link,
        )
        _ip("link", "set", self._driver_link, "up")
        _ip("-n", hub, "link", "set", "drv", "master", "br0", "up")
