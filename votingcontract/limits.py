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
MAX_TRUSTEES = 16
"""Trustees of one encrypted poll: an election board's size, and it bounds every array
of the key generation (dealings carry one share per trustee)."""
MAX_ENCRYPTED_BALLOT_BYTES = 60_000
"""The most an encrypted ballot of a poll may take, worst case over every choice, so it
and its envelope fit a transaction (chain.tx.MAX_TX_BYTES); create_poll checks it."""
"""Largest option cost or budget cap (any currency unit; integers only)."""
MAX_WEIGHT = 1_000_000
"""Largest weight of a roll entry in a weighted poll. A poll's roll holds at most
MAX_ROLL_ENTRIES_POLICY entries, so a tally stays below 10^12 and the share arithmetic
(count * 20,000) below 2^63: an independent verifier needs no big integers. Holdings
larger than this are given in blocks (per 100 shares, per square metre)."""
MAX_LIST_KEYS = 1000
"""Phone ids, voter keys or ticket keys named in one transaction (per list)."""
MAX_RADIUS_M = 100_000
"""Largest geofence radius: 100 km keeps the integer geofence maths inside 64 bits."""
MAX_TIME_MS = 2**63 - 1

MAX_OPEN_CITIZEN_POLLS = 3
"""Citizen polls one phone_id may have open or upcoming at the same time."""

SALT_SIZE = 16
"""Password gate salt bytes, stored in the poll."""

# Images on questions and options (votingcontract/images.py). The chain holds only their
# references; validators and observers keep the bytes, so what a poll can make every
# node store is bounded here: 1 MiB is a sharp phone photo; a citizen poll may name
# 4 MiB in all (a few photos), a policy poll 32 MiB (a photo for each of 30 projects).
MAX_IMAGE_BYTES = 1_048_576
"""Largest image a question or option may name."""
MAX_POLL_IMAGE_BYTES_CITIZEN = 4 * 1_048_576
"""Sum of the sizes of the distinct images one citizen poll names."""
MAX_POLL_IMAGE_BYTES_POLICY = 32 * 1_048_576
"""Sum of the sizes of the distinct images one policy poll names."""

# Per-poll caps on what a poll's manager may add over the poll's life (create_poll,
# extend_roll, issue_tickets). Per transaction a list holds at most MAX_LIST_KEYS, but
# a manager could repeat extend_roll without end and grow state (and blocks) at will;
# these caps bound what one poll can cost every validator and every auditor. A refused
# addition is reason list_full and writes nothing.
#
# Citizen polls ("among ourselves") are run by anyone who passed a phone check, so their
# caps are small: 5,000 roll entries is a large apartment complex, school or association
# (mVoting's citizen polls are group decisions of that size), about 0.4 MB of state per
# poll; 1,000 tickets is one on-site meeting. Policy polls are run by organisations the
# admin registered, so theirs are large: 1,000,000 roll entries covers the electorate of
# the largest Seoul district (Songpa-gu, about 0.55 million adults) with room to spare,
# about 75 MB of state; a city-wide vote uses public access, not a roll. 100,000 tickets
# covers a city-wide run of on-site assemblies (participatory budgeting).
MAX_ROLL_ENTRIES_CITIZEN = 5_000
"""Phone ids plus voter keys on one citizen poll's roll."""
MAX_ROLL_ENTRIES_POLICY = 1_000_000
"""Phone ids plus voter keys on one policy poll's roll."""
MAX_TICKETS_CITIZEN = 1_000
"""Ticket keys registered for one citizen poll."""
MAX_TICKETS_POLICY = 100_000
"""Ticket keys registered for one policy poll."""

KEY_REPLACEMENT_DELAY_MS = 24 * 60 * 60 * 1000
"""How long after its enrollment block a phone's new key waits before it replaces the
phone's active key: 24 hours of block time. Someone who guesses a phone's one-time code
cannot take the phone over at once; the old key keeps working, its holder is told (the
attester reads the notice from state) and can cancel with cancel_key_change. A day gives
a person who is asleep or travelling time to see the notice."""

WHITESPACE = frozenset(
    chr(c)
    for c in (
        *range(0x09, 0x0E),  # tab, line feed, vertical tab, form feed, carriage return
        *range(0x1C, 0x21),  # information separators 4..1, space
        0x85,  # next line
        0xA0,  # no-break space
        0x1680,  # ogham space mark
        *range(0x2000, 0x200B),  # en quad .. hair space
        0x2028,  # line separator
        0x2029,  # paragraph separator
        0x202F,  # narrow no-break space
        0x205F,  # medium mathematical space
        0x3000,  # ideographic space
    )
)
"""The 29 code points a title may not consist of alone (PROTOCOL.md section 11.6).

Listed, not taken from a library, so that the rule cannot move with a Unicode version:
it is what Python's str.isspace() accepts under Unicode 14, and a test keeps it so.
"""
