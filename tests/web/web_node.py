"""A real in-process node that serves the web app, as `votechain node` serves it."""

from __future__ import annotations

from node.service import Node
from tests.node.live_node import LiveNode
from webapp import add_routes


class WebNode(LiveNode):
    """A LiveNode whose RPC app also serves the web app (cli's `node` command wires it
    in the same way: Node(config, id, webapp.add_routes))."""

    async def _start(self) -> Node:
        node = Node(self.config, "n1", add_routes)
        await node.start()
        return node
