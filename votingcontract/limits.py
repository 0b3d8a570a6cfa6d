"""Protocol limits of the voting state machine, in one place.

A body that breaks one of these does not decode (receipt code malformed_body). They
are part of the protocol: an independent implementation must refuse exactly the same
bodies, so changing one is a protocol change (docs/PROTOCOL.md section 11).
"""

from __future__ import annotations

MAX_ORG_ID_LENGTH = 64
"""Organisation ids: 1..64 characters from ORG_ID_ALPHABET."""
ORG_ID_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")
MAX_NAME_LENGTH = 200
MAX_ORG_KEYS = 16
"""Keys named in one register_org."""

MAX_TITLE_LENGTH = 200
MAX_PURPOSE_LENGTH = 2000
MAX_URL_LENGTH = 500
MAX_QUESTIONS = 20
MAX_QUESTION_LENGTH = 500
MIN_OPTIONS = 2
MAX_OPTIONS = 50
MAX_OPTION_LENGTH = 200
MAX_COST = 10**15
"""Largest option cost or budget cap (any currency unit; integers only)."""
MAX_LIST_KEYS = 1000
"""Phone ids, voter keys or ticket keys named in one transaction (per list)."""
MAX_RADIUS_M = 100_000
"""Largest geofence radius: 100 km keeps the integer geofence maths inside 64 bits."""
MAX_TIME_MS = 2**63 - 1

MAX_OPEN_CITIZEN_POLLS = 3
"""Citizen polls one phone_id may have open or upcoming at the same time."""

SALT_SIZE = 16
"""Password gate salt bytes, stored in the poll."""
