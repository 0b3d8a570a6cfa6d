"""Demo content for a fresh local chain: a registered city organisation and two polls.

Seeded by `votechain up` only when the chain is empty (height 0), so restarting a
cluster never adds them twice.
"""

from __future__ import annotations

import time
from typing import Any

import votingcontract
from chain.keyfile import load_key
from cli.client import RpcClient
from cli.txs import sign, submit
from node.config import ClusterConfig

DEMO_ORG_ID = "seoul-city"
DAY_MS = 24 * 60 * 60 * 1000


def demo_polls(now_ms: int) -> list[dict[str, Any]]:
    closes = now_ms + 30 * DAY_MS
    return [
        {
            "kind": "policy",
            "org_id": DEMO_ORG_ID,
            "title": "How satisfied are you with the city's bike-sharing service?",
            "purpose": "A satisfaction survey; results are public while it runs.",
            "reference_url": "https://example.org/bike-sharing",
            "opens_at_ms": now_ms,
            "closes_at_ms": closes,
            "visibility": "live",
            "revote": False,
            "questions": [
                {
                    "text": "Overall satisfaction",
                    "options": ["Very satisfied", "Satisfied", "Dissatisfied", "No opinion"],
                    "min_selections": 1,
                    "max_selections": 1,
                }
            ],
        },
        {
            "kind": "policy",
            "org_id": DEMO_ORG_ID,
            "title": "Participatory budget 2027: neighbourhood projects",
            "purpose": "Choose the projects to fund; the total of your choices may not exceed "
            "the budget of 1,000 (million won). You may change your ballot until it closes.",
            "reference_url": "https://example.org/budget-2027",
            "opens_at_ms": now_ms,
            "closes_at_ms": closes,
            "visibility": "live",
            "revote": True,
            "questions": [
                {
                    "text": "Projects (choose up to 3 within the budget)",
                    "options": [
                        {"text": "Riverside walking path lighting", "cost": 400},
                        {"text": "Library opening hours extended", "cost": 300},
                        {"text": "Playground renovation", "cost": 500},
                        {"text": "Free public Wi-Fi in markets", "cost": 200},
                    ],
                    "min_selections": 1,
                    "max_selections": 3,
                    "budget_cap": 1000,
                }
            ],
        },
    ]


def seed_if_fresh(config: ClusterConfig) -> list[str]:
    """Register the demo org and create the demo polls on an empty chain; returns poll ids."""
    client = RpcClient(
        config.nodes[0].rpc_url,
        fallbacks=[n.rpc_url for n in config.nodes],
        ca_file=config.client_ca_path,
    )
    status = client.get("/v1/status")
    if status["height"] > 0:
        return []
    chain_id = status["chain_id"]
    admin = load_key(config.keys_dir / "admin.pem")
    org_key = load_key(config.keys_dir / "demo-org.pem")
    register = votingcontract.RegisterOrg.from_dict(
        {
            "org_id": DEMO_ORG_ID,
            "name": "Seoul Metropolitan Government (demo)",
            "category": "city_department",
            "keys": [org_key.public_key.hex()],
        }
    )
    submit(client, sign(admin, chain_id, register))
    poll_ids = []
    for spec in demo_polls(int(time.time() * 1000)):
        result = submit(client, sign(org_key, chain_id, votingcontract.CreatePoll.from_dict(spec)))
        poll_ids.append(result["tx"]["tx_id"])
        print(f"demo poll {result['tx']['tx_id']}: {spec['title']}")
    return poll_ids
