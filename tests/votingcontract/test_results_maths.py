"""Integer results maths and the integer geofence (docs/PROTOCOL.md section 11)."""

from __future__ import annotations

from votingcontract.geofence import COS_E6, calculate_cos_e6, is_inside
from votingcontract.poll_spec import Geofence
from votingcontract.results import calculate_budget_outcome, calculate_share_bps, format_bps

SEOUL_CITY_HALL = Geofence(37_566_535, 126_977_969, 500)


def test_seed_case_68_84_14_119_gives_mvoting_percentages() -> None:
    counts = [68, 84, 14, 119]
    shares = [format_bps(calculate_share_bps(c, sum(counts))) for c in counts]
    assert shares == ["23.86", "29.47", "4.91", "41.75"]


def test_shares_round_half_up_and_are_never_forced_to_100() -> None:
    assert calculate_share_bps(1, 8) == 1250  # 12.5% exactly
    assert calculate_share_bps(1, 20_000) == 1  # 0.005% is half a basis point: rounds up
    assert calculate_share_bps(1, 20_001) == 0
    thirds = [calculate_share_bps(1, 3)] * 3
    assert thirds == [3333, 3333, 3333] and sum(thirds) == 9999
    sixths = [calculate_share_bps(1, 6)] * 2 + [calculate_share_bps(4, 6)]
    assert sum(sixths) == 1667 + 1667 + 6667 == 10001


def test_empty_question_has_zero_shares() -> None:
    assert calculate_share_bps(0, 0) == 0
    assert format_bps(0) == "0.00"
    assert format_bps(10000) == "100.00"


def test_budget_outcome_funds_by_votes_and_skips_what_does_not_fit() -> None:
    costs = [500, 300, 400, 100]
    counts = [10, 40, 30, 5]
    funded, spent = calculate_budget_outcome(costs, counts, 800)
    # ranking 1 (40), 2 (30), 0 (10), 3 (5): 300 + 400 = 700; 500 does not fit; 100 does
    assert funded == (1, 2, 3)
    assert spent == 800


def test_budget_ties_are_broken_by_option_index() -> None:
    funded, _ = calculate_budget_outcome([600, 600], [7, 7], 1000)
    assert funded == (0,)
    funded, _ = calculate_budget_outcome([600, 600], [7, 8], 1000)
    assert funded == (1,)


def test_budget_options_without_votes_are_not_funded() -> None:
    funded, spent = calculate_budget_outcome([100, 100], [3, 0], 1000)
    assert funded == (0,) and spent == 100


def test_cos_table_interpolates_between_whole_degrees() -> None:
    assert calculate_cos_e6(0) == 1_000_000
    assert calculate_cos_e6(60_000_000) == 500_000
    assert calculate_cos_e6(-60_000_000) == 500_000
    assert calculate_cos_e6(90_000_000) == 0
    half = calculate_cos_e6(37_500_000)
    assert half == COS_E6[37] - (COS_E6[37] - COS_E6[38]) // 2


def test_geofence_centre_and_points_just_inside_and_outside() -> None:
    fence = SEOUL_CITY_HALL
    assert is_inside(fence, fence.lat_micro, fence.lon_micro)
    # 500 m north is 4491.56 micro-degrees of latitude
    assert is_inside(fence, fence.lat_micro + 4_491, fence.lon_micro)
    assert not is_inside(fence, fence.lat_micro + 4_500, fence.lon_micro)
    # east: one micro-degree of longitude is 0.11132 m * cos(37.57 deg) = 0.0882 m
    assert is_inside(fence, fence.lat_micro, fence.lon_micro + 5_660)
    assert not is_inside(fence, fence.lat_micro, fence.lon_micro + 5_700)
    # diagonal: 400 m north and 400 m east is 566 m away
    assert not is_inside(fence, fence.lat_micro + 3_593, fence.lon_micro + 4_535)


def test_geofence_wraps_around_the_antimeridian() -> None:
    fence = Geofence(0, 179_999_000, 1_000)
    assert is_inside(fence, 0, -179_999_000)  # 2000 micro-degrees apart = 223 m
    assert not is_inside(fence, 0, 0)


def test_geofence_exact_boundary_is_inside() -> None:
    fence = Geofence(0, 0, 1)
    # 1 m = 1000 mm; dlat * 111320 // 1000 = 1000 needs dlat = 8.98... -> 8 gives 890 mm
    assert is_inside(fence, 8, 0)
    assert not is_inside(fence, 9, 0)  # 1001 mm
