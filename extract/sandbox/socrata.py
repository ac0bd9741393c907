"""The Socrata SODA 2.x world of the sandbox: MyLA311 service requests, one dataset per year.

A year is generated column-wise with NumPy (int64 epoch seconds, small integer codes into value
tables) and cached per process; a query filters and sorts those arrays, and only the page it
returns becomes text (Arrow string arrays), encoded as JSON or CSV the way SODA 2 answers.
Timestamps are floating (no zone): epoch seconds here stand for local wall-clock time.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from extract.sandbox.config import SandboxConfig
from extract.sandbox.seeding import key_int

# "MyLA311 Service Request Data <year>": the ids the real portal (data.lacity.org) serves each
# year under, so the source finds each year where it would live. The sandbox imports no client
# code: the client keeps its own copy (extract/sources/socrata/datasets.py), and
# tests/unit/test_layout.py checks that the two agree.
DATASET_IDS: dict[int, str] = {
    2015: "ms7h-a45h", 2016: "ndkd-k878", 2017: "d4vt-q4t5", 2018: "h65r-yf5i",
    2019: "pvft-t768", 2020: "rq3b-xjk8", 2021: "97z7-y5bt", 2022: "i5ke-k6by",
    2023: "4a4x-mna2", 2024: "b7dx-7gc3", 2025: "h73f-gn57",
}  # fmt: skip

# (API field name, Socrata type), in the datasets' column order
FIELDS: tuple[tuple[str, str], ...] = (
    ("srnumber", "text"), ("createddate", "floating_timestamp"),
    ("updateddate", "floating_timestamp"), ("actiontaken", "text"), ("owner", "text"),
    ("requesttype", "text"), ("status", "text"), ("requestsource", "text"),
    ("mobileos", "text"), ("anonymous", "text"), ("assignto", "text"),
    ("servicedate", "floating_timestamp"), ("closeddate", "floating_timestamp"),
    ("address", "text"), ("zipcode", "text"), ("latitude", "number"), ("longitude", "number"),
    ("cd", "number"), ("cdmember", "text"), ("nc", "number"), ("ncname", "text"),
    ("policeprecinct", "text"), ("apc", "text"),
)  # fmt: skip
FIELD_NAMES: tuple[str, ...] = tuple(name for name, _ in FIELDS)
FIELD_TYPES: dict[str, str] = dict(FIELDS)
DISPLAY_NAMES: dict[str, str] = {
    "srnumber": "SRNumber", "createddate": "CreatedDate", "updateddate": "UpdatedDate",
    "actiontaken": "ActionTaken", "owner": "Owner", "requesttype": "RequestType",
    "status": "Status", "requestsource": "RequestSource", "mobileos": "MobileOS",
    "anonymous": "Anonymous", "assignto": "AssignTo", "servicedate": "ServiceDate",
    "closeddate": "ClosedDate", "address": "Address", "zipcode": "ZipCode",
    "latitude": "Latitude", "longitude": "Longitude", "cd": "CD", "cdmember": "CDMember",
    "nc": "NC", "ncname": "NCName", "policeprecinct": "PolicePrecinct", "apc": "APC",
}  # fmt: skip
DEFAULT_LIMIT = 1000
MAX_LIMIT = 50_000  # SODA 2.0
NULL_TS = np.iinfo(np.int64).min
DAY = 86_400

# -- value tables (shares from the reference's 2019+2020 counts) ------------------------------

# (request type, share, owner, mean days to close)
REQUEST_TYPES: tuple[tuple[str, float, str | None, float], ...] = (
    ("Bulky Items", 0.469, "BOS", 3.5),
    ("Graffiti Removal", 0.237, "OCB", 1.2),
    ("Illegal Dumping Pickup", 0.091, "BOS", 4.0),
    ("Metal/Household Appliances", 0.086, "BOS", 3.5),
    ("Homeless Encampment", 0.039, "BOS", 12.0),
    ("Electronic Waste", 0.031, "BOS", 3.5),
    ("Dead Animal Removal", 0.018, "BOS", 0.8),
    ("Other", 0.014, None, 6.0),
    ("Single Streetlight Issue", 0.008, "BSL", 18.0),
    ("Multiple Streetlight Issue", 0.005, "BSL", 25.0),
    ("Report Water Waste", 0.001, "LADWP", 10.0),
    ("Feedback", 0.0004, None, 5.0),
)
STATUSES: tuple[tuple[str, float], ...] = (
    ("Closed", 0.953), ("Cancelled", 0.035), ("Open", 0.007), ("Pending", 0.005),
    ("Referred Out", 0.0004), ("Forward", 0.0001),
)  # fmt: skip
NEW_STATUS_SHARES = (0.2, 0.0, 0.7, 0.1, 0.0, 0.0)  # brand-new requests: mostly still open
SOURCES: tuple[tuple[str, float], ...] = (
    ("Call", 0.460), ("Mobile App", 0.250), ("Driver Self Report", 0.156),
    ("Self Service", 0.130), ("Email", 0.003), ("Council's Office", 0.0009),
    ("Voicemail", 0.0002), ("Twitter", 0.0002),
)  # fmt: skip
ACTIONS: tuple[tuple[str, float], ...] = (
    ("SR Created", 0.99975), ("SR Updated", 0.00013), ("Transferred", 0.00006),
    ("Escalate to Supervisor", 0.00003), ("Information Provided", 0.00002),
)  # fmt: skip
MOBILE_OS = ("Android", "iOS")
ANONYMOUS = ("N", "Y")
APCS = (
    "Central APC", "East Los Angeles APC", "Harbor APC", "North Valley APC",
    "South Los Angeles APC", "South Valley APC", "West Los Angeles APC",
)  # fmt: skip
APC_DISTRICT = ("NC", "NC", "HB", "EV", "SLA", "WV", "WLA")  # sanitation crew district per APC
ASSIGN_TO = ("NC", "HB", "EV", "SLA", "WV", "WLA", "CRCD")
CD_MEMBERS = (
    "Eunisses Hernandez", "Paul Krekorian", "Bob Blumenfield", "Nithya Raman",
    "Katy Yaroslavsky", "Imelda Padilla", "Monica Rodriguez", "Marqueece Harris-Dawson",
    "Curren D. Price Jr.", "Heather Hutt", "Traci Park", "John Lee", "Hugo Soto-Martinez",
    "Kevin de León", "Tim McOsker",
)  # fmt: skip
# (nc id, name, cd, apc index, LAPD division, lat, lon, zip, weight)
NEIGHBORHOOD_COUNCILS: tuple[tuple[int, str, int, int, str, float, float, str, float], ...] = (
    (4, "GRANADA HILLS NORTH NC", 12, 3, "DEVONSHIRE", 34.283, -118.505, "91344", 1.0),
    (6, "NORTHRIDGE EAST NC", 12, 3, "DEVONSHIRE", 34.245, -118.525, "91324", 1.0),
    (10, "ARLETA NC", 6, 3, "MISSION", 34.241, -118.432, "91331", 1.5),
    (13, "PACOIMA NC", 7, 3, "FOOTHILL", 34.262, -118.410, "91331", 2.0),
    (16, "SUN VALLEY AREA NC", 6, 3, "FOOTHILL", 34.218, -118.370, "91352", 1.5),
    (19, "LAKE BALBOA NC", 6, 5, "WEST VALLEY", 34.186, -118.495, "91406", 1.0),
    (21, "RESEDA NC", 3, 5, "WEST VALLEY", 34.201, -118.536, "91335", 1.5),
    (22, "CANOGA PARK NC", 3, 5, "TOPANGA", 34.201, -118.597, "91303", 1.5),
    (24, "SHERMAN OAKS NC", 4, 5, "VAN NUYS", 34.151, -118.449, "91403", 1.0),
    (25, "VAN NUYS NC", 6, 5, "VAN NUYS", 34.189, -118.449, "91405", 2.0),
    (27, "NORTH HOLLYWOOD NORTHEAST NC", 2, 5, "NORTH HOLLYWOOD", 34.196, -118.381, "91605", 1.5),
    (29, "STUDIO CITY NC", 4, 5, "NORTH HOLLYWOOD", 34.139, -118.390, "91604", 0.7),
    (31, "ENCINO NC", 4, 5, "WEST VALLEY", 34.158, -118.501, "91436", 0.7),
    (33, "WOODLAND HILLS-WARNER CENTER NC", 3, 5, "TOPANGA", 34.168, -118.606, "91367", 0.8),
    (35, "SUNLAND-TUJUNGA NC", 7, 3, "FOOTHILL", 34.256, -118.296, "91042", 0.8),
    (40, "GREATER CYPRESS PARK NC", 1, 1, "NORTHEAST", 34.090, -118.223, "90065", 1.0),
    (42, "EAGLE ROCK NC", 14, 1, "NORTHEAST", 34.139, -118.211, "90041", 0.8),
    (44, "HISTORIC HIGHLAND PARK NC", 1, 1, "NORTHEAST", 34.111, -118.192, "90042", 1.2),
    (46, "LINCOLN HEIGHTS NC", 1, 1, "HOLLENBECK", 34.071, -118.207, "90031", 1.0),
    (50, "BOYLE HEIGHTS NC", 14, 1, "HOLLENBECK", 34.034, -118.205, "90033", 2.5),
    (52, "SILVER LAKE NC", 13, 1, "NORTHEAST", 34.087, -118.270, "90026", 0.9),
    (54, "HOLLYWOOD STUDIO DISTRICT NC", 13, 0, "HOLLYWOOD", 34.090, -118.320, "90038", 1.0),
    (56, "HOLLYWOOD UNITED NC", 4, 0, "HOLLYWOOD", 34.113, -118.325, "90068", 0.6),
    (58, "EAST HOLLYWOOD NC", 13, 0, "NORTHEAST", 34.094, -118.295, "90029", 1.0),
    (60, "GREATER WILSHIRE NC", 5, 0, "WILSHIRE", 34.068, -118.331, "90004", 0.8),
    (62, "WILSHIRE CENTER - KOREATOWN NC", 10, 0, "OLYMPIC", 34.060, -118.300, "90005", 1.5),
    (64, "PICO UNION NC", 1, 0, "RAMPART", 34.047, -118.287, "90006", 1.5),
    (66, "WESTLAKE NORTH NC", 1, 0, "RAMPART", 34.064, -118.276, "90057", 1.2),
    (68, "DOWNTOWN LOS ANGELES NC", 14, 0, "CENTRAL", 34.045, -118.250, "90013", 2.0),
    (70, "MID CITY NC", 10, 6, "WILSHIRE", 34.040, -118.350, "90019", 1.2),
    (72, "EMPOWERMENT CONGRESS WEST AREA NC", 10, 4, "SOUTHWEST", 34.005, -118.340, "90008", 1.2),
    (
        74,
        "EMPOWERMENT CONGRESS CENTRAL AREA NC",
        8,
        4,
        "77TH STREET",
        33.985,
        -118.300,
        "90047",
        2.5,
    ),
    (76, "SOUTH CENTRAL NC", 9, 4, "NEWTON", 34.000, -118.258, "90011", 3.0),
    (78, "WATTS NC", 15, 4, "SOUTHEAST", 33.940, -118.243, "90002", 2.0),
    (80, "EMPOWERMENT CONGRESS NORTH AREA NC", 9, 4, "SOUTHWEST", 34.016, -118.300, "90007", 1.5),
    (82, "VOICES OF 90037", 8, 4, "77TH STREET", 34.003, -118.288, "90037", 2.0),
    (84, "VENICE NC", 11, 6, "PACIFIC", 33.992, -118.466, "90291", 1.0),
    (86, "MAR VISTA NC", 11, 6, "PACIFIC", 34.003, -118.430, "90066", 0.8),
    (88, "PALMS NC", 5, 6, "PACIFIC", 34.022, -118.405, "90034", 0.8),
    (90, "WESTWOOD NC", 5, 6, "WEST LOS ANGELES", 34.063, -118.445, "90024", 0.5),
    (92, "WEST LOS ANGELES NC", 11, 6, "WEST LOS ANGELES", 34.040, -118.445, "90025", 0.6),
    (94, "WESTCHESTER/PLAYA NC", 11, 6, "PACIFIC", 33.958, -118.405, "90045", 0.7),
    (96, "WILMINGTON NC", 15, 2, "HARBOR", 33.782, -118.262, "90744", 1.5),
    (98, "CENTRAL SAN PEDRO NC", 15, 2, "HARBOR", 33.738, -118.285, "90731", 1.0),
    (100, "HARBOR CITY NC", 15, 2, "HARBOR", 33.796, -118.298, "90710", 0.7),
    (125, "HISTORIC CULTURAL NC", 1, 0, "CENTRAL", 34.060, -118.238, "90012", 0.8),
)
# Streets per APC (direction, name and suffix as LA writes them)
STREETS_BY_APC: tuple[tuple[str, ...], ...] = (
    ("S BROADWAY", "W 6TH ST", "S HOOVER ST", "W OLYMPIC BLVD", "N HIGHLAND AVE",
     "S VERMONT AVE", "W 3RD ST", "S WESTERN AVE"),
    ("E CESAR E CHAVEZ AVE", "N FIGUEROA ST", "YORK BLVD", "COLORADO BLVD", "N EASTERN AVE",
     "E NOAKES ST", "N BROADWAY"),
    ("S GAFFEY ST", "AVALON BLVD", "W PACIFIC COAST HWY", "W ANAHEIM ST", "S PACIFIC AVE"),
    ("N SAN FERNANDO RD", "LAUREL CANYON BLVD", "DEVONSHIRE ST", "VAN NUYS BLVD",
     "FOOTHILL BLVD", "BALBOA BLVD"),
    ("S FIGUEROA ST", "S CENTRAL AVE", "W SLAUSON AVE", "W FLORENCE AVE", "E 103RD ST",
     "S CRENSHAW BLVD", "W MARTIN LUTHER KING JR BLVD", "W ADAMS BLVD"),
    ("SHERMAN WAY", "VICTORY BLVD", "VENTURA BLVD", "RESEDA BLVD", "N LANKERSHIM BLVD",
     "TAMPA AVE", "ROSCOE BLVD"),
    ("W PICO BLVD", "W VENICE BLVD", "S SEPULVEDA BLVD", "LINCOLN BLVD", "S LA CIENEGA BLVD",
     "W JEFFERSON BLVD", "SANTA MONICA BLVD"),
)  # fmt: skip
LAT_BOUNDS = (33.70, 34.35)
LON_BOUNDS = (-118.67, -118.15)
NO_COORDINATES_SHARE = 0.03
ANONYMOUS_SHARE = 0.3


def _codes(names: tuple[str, ...]) -> dict[str, int]:
    return {name: i for i, name in enumerate(names)}


_TYPE_NAMES = tuple(t[0] for t in REQUEST_TYPES)
_OWNERS = tuple(sorted({t[2] for t in REQUEST_TYPES if t[2]}))
_OWNER_OF_TYPE = np.array([_OWNERS.index(t[2]) if t[2] else -1 for t in REQUEST_TYPES], np.int8)
_CLOSE_DAYS = np.array([t[3] for t in REQUEST_TYPES])
_STATUS = _codes(tuple(s[0] for s in STATUSES))
_TYPE = _codes(_TYPE_NAMES)
_SOURCE = _codes(tuple(s[0] for s in SOURCES))
_ACTION = _codes(tuple(a[0] for a in ACTIONS))
_NC_APC = np.array([nc[3] for nc in NEIGHBORHOOD_COUNCILS], np.int8)
_NC_LAT = np.array([nc[5] for nc in NEIGHBORHOOD_COUNCILS])
_NC_LON = np.array([nc[6] for nc in NEIGHBORHOOD_COUNCILS])
_NC_WEIGHT = np.array([nc[8] for nc in NEIGHBORHOOD_COUNCILS])
_STREETS = tuple(s for group in STREETS_BY_APC for s in group)
_STREET_START = np.cumsum([0] + [len(g) for g in STREETS_BY_APC[:-1]])
_STREET_COUNT = np.array([len(g) for g in STREETS_BY_APC])
_APC_ASSIGN = np.array([ASSIGN_TO.index(d) for d in APC_DISTRICT], np.int8)


def _labels(values: Any) -> pa.Array:
    return pa.array([str(v) for v in values], pa.string())


# Label tables for the columns stored as codes: column -> (code column, labels).
_NC_LABELS = {
    "nc": _labels(nc[0] for nc in NEIGHBORHOOD_COUNCILS),
    "ncname": _labels(nc[1] for nc in NEIGHBORHOOD_COUNCILS),
    "cd": _labels(nc[2] for nc in NEIGHBORHOOD_COUNCILS),
    "cdmember": _labels(CD_MEMBERS[nc[2] - 1] for nc in NEIGHBORHOOD_COUNCILS),
    "apc": _labels(APCS[nc[3]] for nc in NEIGHBORHOOD_COUNCILS),
    "policeprecinct": _labels(nc[4] for nc in NEIGHBORHOOD_COUNCILS),
    "zipcode": _labels(nc[7] for nc in NEIGHBORHOOD_COUNCILS),
}
_CODED: dict[str, tuple[str, pa.Array]] = {
    "actiontaken": ("action", _labels(a[0] for a in ACTIONS)),
    "requesttype": ("rtype", _labels(_TYPE_NAMES)),
    "status": ("status", _labels(s[0] for s in STATUSES)),
    "requestsource": ("source", _labels(s[0] for s in SOURCES)),
    "mobileos": ("mobileos", _labels(MOBILE_OS)),
    "anonymous": ("anonymous", _labels(ANONYMOUS)),
    "assignto": ("assignto", _labels(ASSIGN_TO)),
    **{name: ("nc", labels) for name, labels in _NC_LABELS.items()},
}
_STREET_LABELS = _labels(_STREETS)
_OWNER_LABELS = _labels(_OWNERS)
_TIMESTAMPS = {"createddate": "created", "updateddate": "updated", "servicedate": "service",
               "closeddate": "closed"}  # fmt: skip


class SocrataError(Exception):
    """An answer in Socrata's error shape: {"code", "error": true, "message"[, "data"]}."""

    def __init__(
        self, status: int, code: str, message: str, data: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.data = status, code, message, data

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "error": True, "message": self.message}
        if self.data is not None:
            out["data"] = self.data
        return out


def _malformed(param: str, text: str, why: str = "") -> SocrataError:
    query = f"{param}={text}"
    message = f'Could not parse SoQL query "{query}"' + (f": {why}" if why else "")
    return SocrataError(400, "query.compiler.malformed", message, {"query": query})


# -- datasets --------------------------------------------------------------------------------


def dataset_id(year: int) -> str:
    """The real 4x4 id of LA 311's dataset for `year`."""
    try:
        return DATASET_IDS[year]
    except KeyError:
        raise ValueError(f"no MyLA311 dataset id for {year}") from None


def served_years(config: SandboxConfig) -> tuple[int, ...]:
    return tuple(sorted({int(y) for y in config.socrata_years.split(",") if y.strip()}))


def year_of(config: SandboxConfig, dataset: str) -> int:
    """The served year whose id is `dataset`; 404 in Socrata's shape otherwise."""
    for year in served_years(config):
        if DATASET_IDS.get(year) == dataset:
            return year
    raise SocrataError(
        404, "not_found", f"Cannot find view with id {dataset}", {"id": dataset}
    )  # fmt: skip


def check_app_token(config: SandboxConfig, headers: Any, params: Mapping[str, str]) -> None:
    """403 unless the configured app token came as X-App-Token or `$$app_token`."""
    wanted = config.socrata_app_token
    if wanted is None:
        return
    given = headers.get("X-App-Token") or params.get("$$app_token")
    if not given:
        raise SocrataError(
            403, "permission_denied", "This endpoint requires an app token (X-App-Token)."
        )
    if given != wanted:
        raise SocrataError(403, "invalid_app_token", "Invalid app_token specified")


def metadata(config: SandboxConfig, dataset: str) -> dict[str, Any]:
    """`/api/views/<id>.json`: the dataset's name and columns."""
    year = year_of(config, dataset)
    return {
        "id": dataset,
        "name": f"MyLA311 Service Request Data {year}",
        "columns": [
            {"fieldName": name, "name": DISPLAY_NAMES[name], "dataTypeName": kind,
             "position": i + 1}
            for i, (name, kind) in enumerate(FIELDS)
        ],
    }  # fmt: skip


# -- generation ------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class YearData:
    """One year's requests as columns; row i is `:id` order (creation order, new rows last).

    Timestamps are int64 epoch seconds (NULL_TS for null), categories int8 codes (-1 for
    null), coordinates float64 (NaN for null), srnumber its number (0 for null)."""

    year: int
    base_rows: int
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.columns["srnumber"])


class _Key(NamedTuple):
    seed: int
    year: int
    rows: int
    changed_at: int
    changed_fraction: float
    new_rows: int
    null_srnumber_every: int
    backwards_every: int


def _epoch(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1)) // timedelta(seconds=1)


def generate_year(config: SandboxConfig, year: int) -> YearData:
    """Year `year` as the sandbox serves it under `config` (cached per process)."""
    years = served_years(config)
    with _GENERATING:  # one year at a time: concurrent first requests must not double the memory
        return _generate(
            _Key(
                seed=config.seed,
                year=year,
                rows=config.socrata_rows_per_year,
                changed_at=_epoch(datetime.fromisoformat(config.socrata_changed_at)),
                changed_fraction=config.socrata_changed_fraction,
                new_rows=config.socrata_new_rows if years and year == years[-1] else 0,
                null_srnumber_every=config.socrata_null_srnumber_every,
                backwards_every=config.socrata_backwards_every,
            )
        )


_GENERATING = threading.Lock()


@lru_cache(maxsize=6)
def _generate(key: _Key) -> YearData:
    def draws(part: str) -> np.random.Generator:
        # One stream per column, so a change to one column leaves the others as they were.
        return np.random.default_rng(key_int(key.seed, "socrata", key.year, key.rows, part))

    start = _epoch(datetime(key.year, 1, 1))
    # Base data lies before changed_at, so "updated since" sees only the later changes.
    end = min(_epoch(datetime(key.year + 1, 1, 1)), key.changed_at - DAY)
    if end - start < DAY:
        raise ValueError(f"socrata_changed_at must be after the start of {key.year}")
    created = _created(draws("created"), key.rows, start, end)
    cols = _requests(draws, created, horizon=key.changed_at - 1, status_shares=None)
    if key.changed_fraction:
        _change(cols, draws("changed"), key)
    if key.new_rows:
        g = draws("new-created")
        new_created = key.changed_at + np.sort(g.integers(0, 2 * DAY, key.new_rows))

        def new_draws(part: str) -> np.random.Generator:
            return draws(f"new-{part}")

        new = _requests(new_draws, new_created, horizon=None, status_shares=NEW_STATUS_SHARES)
        cols = {name: np.concatenate([cols[name], new[name]]) for name in cols}
    n = len(cols["created"])
    row = np.arange(1, n + 1, dtype=np.int64)  # 1-based row number within the year
    cols["srnumber"] = (key.year - 2000) * 100_000_000 + row
    if key.null_srnumber_every > 0:
        cols["srnumber"][row % key.null_srnumber_every == 0] = 0
    if key.backwards_every > 0:
        back = row % key.backwards_every == 0
        cols["updated"][back] = cols["created"][back] - DAY
    return YearData(key.year, key.rows, cols)


def _created(g: np.random.Generator, n: int, start: int, end: int) -> np.ndarray:
    """Creation times over [start, end): fewer on weekends, mostly in the daytime; sorted."""
    days = (end - start) // DAY
    weekday = (start // DAY + np.arange(days) + 3) % 7  # 1970-01-01 was a Thursday (3)
    weights = np.where(weekday >= 5, 0.6, 1.0)
    day = g.choice(days, size=n, p=weights / weights.sum())
    tod = np.clip(g.normal(13 * 3600, 3.6 * 3600, n), 0, DAY - 1).astype(np.int64)
    return np.sort(start + day.astype(np.int64) * DAY + tod)


def _choice(g: np.random.Generator, shares: Any, n: int) -> np.ndarray:
    p = np.asarray(shares, dtype=float)
    return g.choice(len(p), size=n, p=p / p.sum()).astype(np.int8)


def _seconds(g: np.random.Generator, mean: Any, cap: float, n: int) -> np.ndarray:
    """Exponential durations in whole seconds, at most `cap`."""
    d = g.exponential(1.0, n) * mean
    # Fold the tail into (cap/2, cap] rather than piling it up at exactly `cap`.
    d = np.where(d > cap, cap * (0.5 + 0.5 * ((d / cap) % 1.0)), d)
    return d.astype(np.int64)


def _requests(
    draws: Any, created: np.ndarray, horizon: int | None, status_shares: Any
) -> dict[str, np.ndarray]:
    """Every column but srnumber for requests created at `created`."""
    n = len(created)
    rtype = _choice(draws("type"), [t[1] for t in REQUEST_TYPES], n)
    status = _choice(draws("status"), status_shares or [s[1] for s in STATUSES], n)
    g = draws("closed")
    to_close = np.maximum(_seconds(g, _CLOSE_DAYS[rtype] * DAY, 90 * DAY, n), 300)
    is_closed = status == _STATUS["Closed"]
    closed = np.where(is_closed, created + to_close, NULL_TS)
    g = draws("updated")
    lag_closed = _seconds(g, 2 * 3600, 7 * DAY, n)
    lag_cancelled = _seconds(g, 2 * DAY, 60 * DAY, n)
    lag_open = np.where(g.random(n) < 0.3, 0, _seconds(g, DAY, 30 * DAY, n))
    updated = np.where(
        is_closed,
        closed + lag_closed,
        created + np.where(status == _STATUS["Cancelled"], lag_cancelled, lag_open),
    )
    if horizon is not None:
        updated = np.minimum(updated, horizon)
        closed = np.where(is_closed, np.minimum(closed, updated), NULL_TS)
    owner = _OWNER_OF_TYPE[rtype]
    sanitation = owner == _OWNERS.index("BOS")
    g = draws("service")
    planned = np.where(is_closed, closed, created + g.integers(1, 6, n) * DAY)
    service = np.where(sanitation, planned - planned % DAY, NULL_TS)
    source = _choice(draws("source"), [s[1] for s in SOURCES], n)
    g = draws("mobileos")
    mobileos = np.where(source == _SOURCE["Mobile App"], _choice(g, (0.45, 0.55), n), -1)
    anonymous = (draws("anonymous").random(n) < ANONYMOUS_SHARE).astype(np.int8)
    nc = _choice(draws("nc"), _NC_WEIGHT, n)
    apc = _NC_APC[nc]
    assignto = np.where(
        sanitation,
        np.where(rtype == _TYPE["Homeless Encampment"], ASSIGN_TO.index("CRCD"), _APC_ASSIGN[apc]),
        -1,
    )
    g = draws("place")
    lat = np.clip(_NC_LAT[nc] + g.normal(0, 0.012, n), *LAT_BOUNDS).round(10)
    lon = np.clip(_NC_LON[nc] + g.normal(0, 0.012, n), *LON_BOUNDS).round(10)
    unplaced = g.random(n) < NO_COORDINATES_SHARE
    lat[unplaced] = np.nan
    lon[unplaced] = np.nan
    house = g.integers(100, 20_000, n).astype(np.int32)
    street = (_STREET_START[apc] + g.integers(0, 1 << 30, n) % _STREET_COUNT[apc]).astype(np.int16)
    return {
        "created": created,
        "updated": updated,
        "closed": closed,
        "service": service,
        "action": _choice(draws("action"), [a[1] for a in ACTIONS], n),
        "rtype": rtype,
        "status": status,
        "source": source,
        "mobileos": mobileos.astype(np.int8),
        "anonymous": anonymous,
        "assignto": assignto.astype(np.int8),
        "nc": nc,
        "lat": lat,
        "lon": lon,
        "house": house,
        "street": street,
    }


def _change(cols: dict[str, np.ndarray], g: np.random.Generator, key: _Key) -> None:
    """Touch a seeded share of the base rows after changed_at: open ones close, others get an
    update noted; updateddate moves a few seconds to half an hour past changed_at."""
    count = round(key.changed_fraction * key.rows)
    if not count:
        return
    pick = np.sort(g.choice(key.rows, size=count, replace=False))
    updated = key.changed_at + g.integers(1, 1800, count)
    status = cols["status"][pick]
    opened = (status == _STATUS["Open"]) | (status == _STATUS["Pending"])
    closing = pick[opened]
    cols["status"][closing] = _STATUS["Closed"]
    cols["closed"][closing] = updated[opened] - g.integers(0, 60, len(closing))
    cols["action"][pick[~opened]] = _ACTION["SR Updated"]
    cols["updated"][pick] = updated


# -- queries ---------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>>=|<=|!=|<>|=|>|<)|(?P<word>[A-Za-z_:][\w:]*)"
    r"|(?P<other>\S))"
)
_LITERAL = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?")
_ORDER = re.compile(r"\s*(:id|[a-z]+)(?:\s+(asc|desc))?\s*", re.IGNORECASE)
_ORDERABLE = {":id": None, "srnumber": "srnumber", "createddate": "created",
              "updateddate": "updated"}  # fmt: skip
_PARAMS = {"$select", "$where", "$order", "$limit", "$offset", "$$app_token"}


class _Condition(NamedTuple):
    column: str  # stored timestamp column
    low: int | None  # bounds in epoch ms
    high: int | None
    low_open: bool
    high_open: bool
    negate: bool


def _timestamp_ms(literal: str, where: str) -> int:
    match = _LITERAL.fullmatch(literal)
    if not match:
        raise _malformed("$where", where, f"{literal!r} is not a floating timestamp")
    y, mo, d, h, mi, s, frac = match.groups()
    try:
        moment = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
    except ValueError as exc:
        raise _malformed("$where", where, str(exc)) from exc
    return _epoch(moment) * 1000 + int((frac or "0").ljust(3, "0"))


def parse_where(where: str) -> list[_Condition]:
    """`<ts column> <op> '<ts>'` and `<ts column> between '<a>' and '<b>'`, joined by AND."""
    tokens = [(m.lastgroup or "other", m.group(m.lastgroup or "other")) for m in
              _TOKEN.finditer(where)]  # fmt: skip
    if any(kind == "other" for kind, _ in tokens):
        raise _malformed("$where", where)

    def take(kind: str, word: str | None = None) -> str:
        if not tokens or tokens[0][0] != kind or (word and tokens[0][1].lower() != word):
            raise _malformed("$where", where)
        return tokens.pop(0)[1]

    def literal() -> int:
        return _timestamp_ms(take("str")[1:-1].replace("''", "'"), where)

    out: list[_Condition] = []
    while True:
        name = take("word").lower()
        if name not in _TIMESTAMPS:
            raise _malformed("$where", where, f"the sandbox filters timestamps only, not {name}")
        column = _TIMESTAMPS[name]
        if tokens and tokens[0][0] == "word" and tokens[0][1].lower() == "between":
            tokens.pop(0)
            low = literal()
            take("word", "and")
            out.append(_Condition(column, low, literal(), False, False, False))
        else:
            op = take("op")
            value = literal()
            out.append({
                ">": _Condition(column, value, None, True, False, False),
                ">=": _Condition(column, value, None, False, False, False),
                "<": _Condition(column, None, value, False, True, False),
                "<=": _Condition(column, None, value, False, False, False),
                "=": _Condition(column, value, value, False, False, False),
                "!=": _Condition(column, value, value, False, False, True),
                "<>": _Condition(column, value, value, False, False, True),
            }[op])  # fmt: skip
        if not tokens:
            return out
        take("word", "and")


def parse_select(select: str | None) -> list[str]:
    """Field names, case-insensitive; 400 no-such-column for unknown names."""
    if select is None or select.strip() == "*":
        return list(FIELD_NAMES)
    names = [part.strip().lower() for part in select.split(",")]
    if not all(names):
        raise _malformed("$select", select)
    for name in names:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise _malformed("$select", select, "the sandbox selects plain columns only")
        if name not in FIELD_TYPES:
            raise SocrataError(
                400,
                "query.soql.no-such-column",
                f"No such column: {name}",
                {"column": name, "query": f"$select={select}"},
            )
    return names


def _count(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\s*\d+\s*", raw):
        raise _malformed(name, raw, "expected a non-negative integer")
    return int(raw)


def _where_mask(data: YearData, params: Mapping[str, str]) -> np.ndarray:
    """Which rows $where keeps."""
    where = params.get("$where")
    conditions = parse_where(where) if where is not None else []
    mask = np.ones(len(data), dtype=bool)
    for cond in conditions:
        values = data.columns[cond.column]
        ms = values * 1000
        hit = values != NULL_TS
        if cond.low is not None:
            hit &= ms > cond.low if cond.low_open else ms >= cond.low
        if cond.high is not None:
            hit &= ms < cond.high if cond.high_open else ms <= cond.high
        if cond.negate:
            hit = ~hit & (values != NULL_TS)
        mask &= hit
    return mask


def select_rows(data: YearData, params: Mapping[str, str]) -> np.ndarray:
    """Row indices of the page: $where, then $order, then $offset/$limit (NumPy throughout)."""
    limit = _count(params, "$limit", DEFAULT_LIMIT)
    if limit > MAX_LIMIT:
        raise _malformed("$limit", str(limit), f"$limit may be at most {MAX_LIMIT}")
    offset = _count(params, "$offset", 0)
    order = params.get("$order", ":id")
    match = _ORDER.fullmatch(order)
    if not match or match.group(1).lower() not in _ORDERABLE:
        raise _malformed("$order", order, "the sandbox orders by :id, srnumber, createddate "
                         "or updateddate")  # fmt: skip
    rows = np.flatnonzero(_where_mask(data, params))
    column = _ORDERABLE[match.group(1).lower()]
    descending = (match.group(2) or "asc").lower() == "desc"
    if column is None:
        rows = rows[::-1] if descending else rows
    else:
        keys = data.columns[column][rows]
        if column == "srnumber":  # text order == numeric order (same width); nulls last
            keys = np.where(keys == 0, np.iinfo(np.int64).max, keys)
        rows = rows[np.argsort(-keys if descending else keys, kind="stable")]
    return rows[offset : offset + limit]


# -- encoding --------------------------------------------------------------------------------


def _text(data: YearData, name: str, rows: np.ndarray) -> pa.Array:
    """Column `name` of `rows` as Arrow strings, null where the request has no value."""
    cols = data.columns
    if name == "srnumber":
        numbers = cols["srnumber"][rows]
        text = pa.array(numbers, mask=numbers == 0).cast(pa.string())
        return pc.binary_join_element_wise("1-", text, "")
    if name in _TIMESTAMPS:
        values = cols[_TIMESTAMPS[name]][rows]
        null = values == NULL_TS
        stamps = np.datetime_as_string(np.where(null, 0, values).astype("datetime64[s]"))
        return pc.binary_join_element_wise(pa.array(stamps, mask=null), ".000", "")
    if name in ("latitude", "longitude"):
        values = cols["lat" if name == "latitude" else "lon"][rows]
        return pa.array(values, mask=np.isnan(values)).cast(pa.string())
    if name == "owner":
        codes = _OWNER_OF_TYPE[cols["rtype"][rows]]
        return pc.take(_OWNER_LABELS, pa.array(codes, mask=codes < 0))
    if name == "address":
        house = pa.array(cols["house"][rows]).cast(pa.string())
        street = pc.take(_STREET_LABELS, pa.array(cols["street"][rows]))
        zipcode = pc.take(_NC_LABELS["zipcode"], pa.array(cols["nc"][rows]))
        return pc.binary_join_element_wise(
            pc.binary_join_element_wise(house, street, " "), zipcode, ", "
        )
    column, labels = _CODED[name]
    codes = cols[column][rows]
    return pc.take(labels, pa.array(codes, mask=codes < 0))


def page_table(data: YearData, rows: np.ndarray, fields: list[str]) -> pa.Table:
    """The page as an all-string Arrow table, one column per selected field."""
    return pa.Table.from_arrays([_text(data, name, rows) for name in fields], names=fields)


def _json_escape(text: pa.Array) -> pa.Array:
    text = pc.replace_substring(text, "\\", "\\\\")
    return pc.replace_substring(text, '"', '\\"')


def encode_json(table: pa.Table) -> bytes:
    """A top-level array of flat objects; every value a string; null keys left out."""
    if table.num_rows == 0:
        return b"[]"
    pairs = [
        pc.binary_join_element_wise(f'"{name}":"', _json_escape(column), '"', "")
        for name, column in zip(table.column_names, table.columns, strict=True)
    ]
    rows = pc.binary_join_element_wise(*pairs, ",", null_handling="skip")
    objects = pc.binary_join_element_wise("{", rows, "}", "")
    return ("[" + ",".join(objects.to_pylist()) + "]").encode()


def encode_csv(table: pa.Table) -> bytes:
    """Header of field names, then every value quoted; nulls empty."""
    out = io.BytesIO()
    pacsv.write_csv(table, out, pacsv.WriteOptions(quoting_style="needed"))
    return out.getvalue()


_COUNT = re.compile(r"\s*count\s*\(\s*\*\s*\)\s*(?:as\s+([a-z_][a-z0-9_]*)\s*)?", re.I)


def _count_all(data: YearData, params: Mapping[str, str], name: str) -> pa.Table:
    """`$select=count(*)` [AS name]: one row, the number of rows $where keeps (as Socrata
    answers it: a text number, under the column `count` unless aliased)."""
    if any(p in params for p in ("$order", "$offset")):
        raise _malformed("$select", params["$select"], "count(*) takes no $order or $offset")
    counted = int(np.count_nonzero(_where_mask(data, params)))
    return pa.table({name: pa.array([str(counted)], pa.string())})


def query(
    config: SandboxConfig, dataset: str, params: Mapping[str, str], fmt: str
) -> tuple[bytes, dict[str, str]]:
    """Answer `/resource/<dataset>.<fmt>`: (body, headers incl. Content-Type)."""
    year = year_of(config, dataset)
    unknown = sorted(set(params) - _PARAMS)
    if unknown:
        raise _malformed(unknown[0], params[unknown[0]], "not supported by the sandbox")
    counted = _COUNT.fullmatch(params.get("$select") or "")
    data = generate_year(config, year)
    if counted:
        name = (counted.group(1) or "count").lower()
        table = _count_all(data, params, name)
        headers = {"X-SODA2-Fields": json.dumps([name]), "X-SODA2-Types": '["number"]'}
        if fmt == "csv":
            return encode_csv(table), {"Content-Type": "text/csv; charset=utf-8", **headers}
        return encode_json(table), {"Content-Type": "application/json; charset=utf-8", **headers}
    fields = parse_select(params.get("$select"))
    rows = select_rows(data, params)
    if config.socrata_lose_every > 0:
        rows = rows[rows % config.socrata_lose_every != 0]
    table = page_table(data, rows, fields)
    headers = {
        "X-SODA2-Fields": json.dumps(fields, separators=(",", ":")),
        "X-SODA2-Types": json.dumps([FIELD_TYPES[f] for f in fields], separators=(",", ":")),
    }
    if fmt == "csv":
        return encode_csv(table), {"Content-Type": "text/csv; charset=utf-8", **headers}
    return encode_json(table), {"Content-Type": "application/json; charset=utf-8", **headers}
