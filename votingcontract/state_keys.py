"""Every key space of the voting state machine's state, and the builders of its keys.

Keys are ASCII prefixes followed by fixed-size binary parts, so one prefix scan lists
one thing in a defined order. Values are canonical encodings (chain.encoding) of the
records in records.py, or of a single integer/bool/nil as noted. The node stores these
keys under its own `state/` prefix; they are relative to that.

    admin/<key32>                      true                      genesis admin keys
    attester/<key32>                   name                      genesis identity attesters
    org/<org_id>                       OrgRecord                 registered organisations
    orgkey/<key32>                     OrgKeyRecord              key -> org, active flag
    phone/<phone_id32>                 PhoneRecord               phone -> active key and
                                                                 pending replacement
    voterkey/<key32>                   VoterKeyRecord            key -> phone, stored status
    poll/<poll_id32>                   PollRecord                poll definition and status
    rollphone/<poll_id32><phone_id32>  true                      phone ids on a poll's roll
    rollkey/<poll_id32><key32>         true                      voter keys on a poll's roll
    rollcount/<poll_id32>              count                     entries on a poll's roll
                                                                 (phone ids + keys; the cap)
    ticket/<poll_id32><ticket_key32>   nil | voter_id32          registered ticket, used by
    ticketcount/<poll_id32>            count                     tickets registered (the cap)
    ballot/<poll_id32><voter_id32>     BallotRecord              the counted ballot of a voter
    tally/<poll_id32><q:u16><o:u16>    count                     votes for option o of q
                                                                 (weighted polls: the sum of
                                                                 the voters' weights)
    tallyballots/<poll_id32><q:u16><o:u16>  count                weighted polls only: ballots
                                                                 choosing option o of q
    participants/<poll_id32>           count                     voters with a counted ballot
    participantweight/<poll_id32>      count                     weighted polls only: the sum
                                                                 of those voters' weights
    participation/<voter_id32><poll_id32>  ParticipationRecord   a voter's history entry
    citizenopen/<phone_id32><poll_id32>    true                  citizen polls of a phone not
                                                                 yet seen ended (the cap)
    stat/<name>                        count                     operating report counters:
                                                                 orgs, voters, polls_policy,
                                                                 polls_citizen, ballots,
                                                                 participations
    image/<sha256_32>                  [size, type]              an image some poll names
                                                                 (its bytes are off chain)
    secret/<poll_id32>                 SecretSetup               a secret poll's key
                                                                 generation (secret_polls.py)
    pollkey/<poll_id32>                point (32 bytes)          its joint key, once ready
    etally/<poll_id32>                 bytes                     its encrypted tally: 64
                                                                 bytes per option, in order
    decryption/<poll_id32>             DecryptionRecord          its valid partial decryptions
    tracking/<code32>                  tx_id                     an accepted encrypted
                                                                 ballot's tracking code

voter_id is the voter's phone_id, or for a voter without enrollment in a ticket poll,
the ticket key (so the ticket stands in for the phone). u16 is 2-byte big-endian.
In a weighted poll a roll entry's value is its weight (an integer) instead of true.
"""

from __future__ import annotations

ADMIN = b"admin/"
ATTESTER = b"attester/"
ORG = b"org/"
ORG_KEY = b"orgkey/"
PHONE = b"phone/"
VOTER_KEY = b"voterkey/"
POLL = b"poll/"
ROLL_PHONE = b"rollphone/"
ROLL_KEY = b"rollkey/"
ROLL_COUNT = b"rollcount/"
TICKET = b"ticket/"
TICKET_COUNT = b"ticketcount/"
BALLOT = b"ballot/"
TALLY = b"tally/"
TALLY_BALLOTS = b"tallyballots/"
PARTICIPANTS = b"participants/"
PARTICIPANT_WEIGHT = b"participantweight/"
PARTICIPATION = b"participation/"
CITIZEN_OPEN = b"citizenopen/"
STAT = b"stat/"
IMAGE = b"image/"
SECRET_SETUP = b"secret/"
POLL_KEY = b"pollkey/"
ENCRYPTED_TALLY = b"etally/"
DECRYPTION = b"decryption/"
TRACKING = b"tracking/"

STAT_NAMES = ("orgs", "voters", "polls_policy", "polls_citizen", "ballots", "participations")


def admin(key: bytes) -> bytes:
    return ADMIN + key


def attester(key: bytes) -> bytes:
    return ATTESTER + key


def org(org_id: str) -> bytes:
    return ORG + org_id.encode("utf-8")


def org_key(key: bytes) -> bytes:
    return ORG_KEY + key


def phone(phone_id: bytes) -> bytes:
    return PHONE + phone_id


def voter_key(key: bytes) -> bytes:
    return VOTER_KEY + key


def poll(poll_id: bytes) -> bytes:
    return POLL + poll_id


def roll_phone(poll_id: bytes, phone_id: bytes) -> bytes:
    return ROLL_PHONE + poll_id + phone_id


def roll_key(poll_id: bytes, key: bytes) -> bytes:
    return ROLL_KEY + poll_id + key


def roll_count(poll_id: bytes) -> bytes:
    return ROLL_COUNT + poll_id


def ticket(poll_id: bytes, ticket_key: bytes) -> bytes:
    return TICKET + poll_id + ticket_key


def ticket_count(poll_id: bytes) -> bytes:
    return TICKET_COUNT + poll_id


def ballot(poll_id: bytes, voter_id: bytes) -> bytes:
    return BALLOT + poll_id + voter_id


def tally_prefix(poll_id: bytes) -> bytes:
    return TALLY + poll_id


def tally(poll_id: bytes, question: int, option: int) -> bytes:
    return TALLY + poll_id + question.to_bytes(2, "big") + option.to_bytes(2, "big")


def tally_ballots_prefix(poll_id: bytes) -> bytes:
    return TALLY_BALLOTS + poll_id


def tally_ballots(poll_id: bytes, question: int, option: int) -> bytes:
    return TALLY_BALLOTS + poll_id + question.to_bytes(2, "big") + option.to_bytes(2, "big")


def parse_tally(key: bytes) -> tuple[int, int]:
    """(question, option) from a tally or tallyballots key."""
    return int.from_bytes(key[-4:-2], "big"), int.from_bytes(key[-2:], "big")


def participants(poll_id: bytes) -> bytes:
    return PARTICIPANTS + poll_id


def participant_weight(poll_id: bytes) -> bytes:
    return PARTICIPANT_WEIGHT + poll_id


def participation_prefix(voter_id: bytes) -> bytes:
    return PARTICIPATION + voter_id


def participation(voter_id: bytes, poll_id: bytes) -> bytes:
    return PARTICIPATION + voter_id + poll_id


def citizen_open_prefix(phone_id: bytes) -> bytes:
    return CITIZEN_OPEN + phone_id


def citizen_open(phone_id: bytes, poll_id: bytes) -> bytes:
    return CITIZEN_OPEN + phone_id + poll_id


def stat(name: str) -> bytes:
    if name not in STAT_NAMES:
        raise KeyError(f"unknown stat counter {name!r}")
    return STAT + name.encode("ascii")


def image(sha256: bytes) -> bytes:
    return IMAGE + sha256


def secret_setup(poll_id: bytes) -> bytes:
    return SECRET_SETUP + poll_id


def poll_key(poll_id: bytes) -> bytes:
    return POLL_KEY + poll_id


def encrypted_tally(poll_id: bytes) -> bytes:
    return ENCRYPTED_TALLY + poll_id


def decryption(poll_id: bytes) -> bytes:
    return DECRYPTION + poll_id


def tracking(code: bytes) -> bytes:
    return TRACKING + code
