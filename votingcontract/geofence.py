"""The GPS geofence test, in integers only, so every implementation agrees exactly.

Coordinates are integer micro-degrees; the radius is whole metres. With the fence
centre (lat0, lon0), the claimed point (lat, lon) and integer floor division `//`
applied only to non-negative numbers:

    dlat     = |lat - lat0|
    dlon     = |lon - lon0|;  if dlon > 180_000_000: dlon = 360_000_000 - dlon
    d        = |lat0| // 1_000_000                       (whole degrees, 0..90)
    frac     = |lat0| %  1_000_000
    cos_e6   = COS_E6[d] - ((COS_E6[d] - COS_E6[min(d + 1, 90)]) * frac) // 1_000_000
    north_mm = dlat * 111_320 // 1_000
    east_mm  = (dlon * 111_320 // 1_000) * cos_e6 // 1_000_000
    r_mm     = radius_m * 1_000
    inside  <=>  north_mm <= r_mm  and  east_mm <= r_mm
                 and  north_mm**2 + east_mm**2 <= r_mm**2

COS_E6[k] = round(cos(k degrees) * 1_000_000), listed below. 111_320 m is one degree
of latitude (and of longitude at the equator). This is the equirectangular
approximation evaluated at the fence centre's latitude: for fences of city scale
(radius up to 100 km) it errs by far less than GPS does. Every intermediate value
fits in a signed 64-bit integer (the squares only after the two bound checks).
"""

from __future__ import annotations

from votingcontract.poll_spec import Geofence

METRES_PER_DEGREE = 111_320
MICRO = 1_000_000

COS_E6 = (
    1000000, 999848, 999391, 998630, 997564, 996195, 994522, 992546, 990268, 987688,
    984808, 981627, 978148, 974370, 970296, 965926, 961262, 956305, 951057, 945519,
    939693, 933580, 927184, 920505, 913545, 906308, 898794, 891007, 882948, 874620,
    866025, 857167, 848048, 838671, 829038, 819152, 809017, 798636, 788011, 777146,
    766044, 754710, 743145, 731354, 719340, 707107, 694658, 681998, 669131, 656059,
    642788, 629320, 615661, 601815, 587785, 573576, 559193, 544639, 529919, 515038,
    500000, 484810, 469472, 453990, 438371, 422618, 406737, 390731, 374607, 358368,
    342020, 325568, 309017, 292372, 275637, 258819, 241922, 224951, 207912, 190809,
    173648, 156434, 139173, 121869, 104528, 87156, 69756, 52336, 34899, 17452,
    0,
)  # fmt: skip
"""cos(k°) * 10^6, rounded to the nearest integer, k = 0..90."""


def calculate_cos_e6(lat_micro: int) -> int:
    """cos(latitude) * 10^6 by linear interpolation in COS_E6."""
    magnitude = abs(lat_micro)
    degree, frac = magnitude // MICRO, magnitude % MICRO
    low, high = COS_E6[degree], COS_E6[min(degree + 1, 90)]
    return low - ((low - high) * frac) // MICRO


def calculate_offsets_mm(fence: Geofence, lat_micro: int, lon_micro: int) -> tuple[int, int]:
    """(north_mm, east_mm): how far the point is from the centre along each axis."""
    dlat = abs(lat_micro - fence.lat_micro)
    dlon = abs(lon_micro - fence.lon_micro)
    if dlon > 180 * MICRO:
        dlon = 360 * MICRO - dlon
    north_mm = dlat * METRES_PER_DEGREE // 1_000
    east_mm = (dlon * METRES_PER_DEGREE // 1_000) * calculate_cos_e6(fence.lat_micro) // MICRO
    return north_mm, east_mm


def is_inside(fence: Geofence, lat_micro: int, lon_micro: int) -> bool:
    """True if the point lies within the fence's radius (boundary included)."""
    north_mm, east_mm = calculate_offsets_mm(fence, lat_micro, lon_micro)
    radius_mm = fence.radius_m * 1_000
    if north_mm > radius_mm or east_mm > radius_mm:
        return False
    return north_mm * north_mm + east_mm * east_mm <= radius_mm * radius_mm
