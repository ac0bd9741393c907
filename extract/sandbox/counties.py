"""The sandbox's geography: real counties (approximate 2019 populations and centres) and the
56 state and territory rows of the abbreviations page."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from extract.sandbox.seeding import rng


@dataclass(frozen=True)
class County:
    state_fips: str
    county_fips: str
    name: str  # as the Census writes it: "Autauga County"
    state: str  # "Alabama"
    postal: str  # "AL"
    pop_2019: int
    lat: float
    lon: float

    @property
    def census_name(self) -> str:
        return f"{self.name}, {self.state}"

    @property
    def fips(self) -> str:
        return self.state_fips + self.county_fips


# (name, postal, standard abbreviation, state FIPS); the first 50 rows are the states table.
STATES: tuple[tuple[str, str, str, str], ...] = (
    ("Alabama", "AL", "Ala.", "01"), ("Alaska", "AK", "Alaska", "02"),
    ("Arizona", "AZ", "Ariz.", "04"), ("Arkansas", "AR", "Ark.", "05"),
    ("California", "CA", "Calif.", "06"), ("Colorado", "CO", "Colo.", "08"),
    ("Connecticut", "CT", "Conn.", "09"), ("Delaware", "DE", "Del.", "10"),
    ("Florida", "FL", "Fla.", "12"), ("Georgia", "GA", "Ga.", "13"),
    ("Hawaii", "HI", "Hawaii", "15"), ("Idaho", "ID", "Idaho", "16"),
    ("Illinois", "IL", "Ill.", "17"), ("Indiana", "IN", "Ind.", "18"),
    ("Iowa", "IA", "Iowa", "19"), ("Kansas", "KS", "Kans.", "20"),
    ("Kentucky", "KY", "Ky.", "21"), ("Louisiana", "LA", "La.", "22"),
    ("Maine", "ME", "Maine", "23"), ("Maryland", "MD", "Md.", "24"),
    ("Massachusetts", "MA", "Mass.", "25"), ("Michigan", "MI", "Mich.", "26"),
    ("Minnesota", "MN", "Minn.", "27"), ("Mississippi", "MS", "Miss.", "28"),
    ("Missouri", "MO", "Mo.", "29"), ("Montana", "MT", "Mont.", "30"),
    ("Nebraska", "NE", "Nebr.", "31"), ("Nevada", "NV", "Nev.", "32"),
    ("New Hampshire", "NH", "N.H.", "33"), ("New Jersey", "NJ", "N.J.", "34"),
    ("New Mexico", "NM", "N.M.", "35"), ("New York", "NY", "N.Y.", "36"),
    ("North Carolina", "NC", "N.C.", "37"), ("North Dakota", "ND", "N.D.", "38"),
    ("Ohio", "OH", "Ohio", "39"), ("Oklahoma", "OK", "Okla.", "40"),
    ("Oregon", "OR", "Ore.", "41"), ("Pennsylvania", "PA", "Pa.", "42"),
    ("Rhode Island", "RI", "R.I.", "44"), ("South Carolina", "SC", "S.C.", "45"),
    ("South Dakota", "SD", "S.D.", "46"), ("Tennessee", "TN", "Tenn.", "47"),
    ("Texas", "TX", "Tex.", "48"), ("Utah", "UT", "Utah", "49"),
    ("Vermont", "VT", "Vt.", "50"), ("Virginia", "VA", "Va.", "51"),
    ("Washington", "WA", "Wash.", "53"), ("West Virginia", "WV", "W.Va.", "54"),
    ("Wisconsin", "WI", "Wis.", "55"), ("Wyoming", "WY", "Wyo.", "56"),
)  # fmt: skip
TERRITORIES: tuple[tuple[str, str, str, str], ...] = (
    ("District of Columbia", "DC", "D.C.", "11"),
    ("Guam", "GU", "Guam", "66"),
    ("Marshall Islands", "MH", "M.H.", "68"),
    ("Northern Mariana Islands", "MP", "M.P.", "69"),
    ("Puerto Rico", "PR", "P.R.", "72"),
    ("U.S. Virgin Islands", "VI", "V.I.", "78"),
)
_BY_FIPS = {fips: (name, postal) for name, postal, _, fips in STATES + TERRITORIES}

# state FIPS, county FIPS, name, 2019 population (approximate), centre lat/lon (approximate).
# Ordered so that the first few counties already span parishes, boroughs, independent cities,
# DC and Puerto Rico.
_REAL: tuple[tuple[str, str, str, int, float, float], ...] = (
    ("06", "037", "Los Angeles County", 10039107, 34.05, -118.24),
    ("17", "031", "Cook County", 5150233, 41.84, -87.82),
    ("22", "071", "Orleans Parish", 390144, 29.95, -90.07),
    ("51", "760", "Richmond city", 230436, 37.54, -77.44),
    ("36", "047", "Kings County", 2559903, 40.64, -73.94),
    ("11", "001", "District of Columbia", 705749, 38.90, -77.04),
    ("02", "090", "Fairbanks North Star Borough", 96849, 64.84, -147.72),
    ("72", "127", "San Juan Municipio", 318441, 18.41, -66.06),
    ("48", "201", "Harris County", 4713325, 29.86, -95.39),
    ("01", "001", "Autauga County", 55869, 32.54, -86.64),
    ("01", "003", "Baldwin County", 223234, 30.73, -87.72),
    ("04", "013", "Maricopa County", 4485414, 33.35, -112.49),
    ("05", "119", "Pulaski County", 391911, 34.77, -92.31),
    ("06", "073", "San Diego County", 3338330, 32.72, -117.16),
    ("06", "075", "San Francisco County", 881549, 37.77, -122.42),
    ("08", "031", "Denver County", 727211, 39.74, -104.99),
    ("09", "003", "Hartford County", 891720, 41.81, -72.73),
    ("10", "003", "New Castle County", 558753, 39.58, -75.64),
    ("12", "086", "Miami-Dade County", 2716940, 25.61, -80.50),
    ("12", "095", "Orange County", 1393452, 28.51, -81.32),
    ("13", "121", "Fulton County", 1063937, 33.79, -84.47),
    ("15", "003", "Honolulu County", 974563, 21.31, -157.86),
    ("16", "001", "Ada County", 481587, 43.45, -116.24),
    ("18", "097", "Marion County", 964582, 39.78, -86.14),
    ("19", "153", "Polk County", 490161, 41.69, -93.57),
    ("20", "173", "Sedgwick County", 516042, 37.68, -97.46),
    ("21", "111", "Jefferson County", 766757, 38.19, -85.66),
    ("23", "005", "Cumberland County", 295003, 43.81, -70.33),
    ("24", "031", "Montgomery County", 1050688, 39.14, -77.20),
    ("25", "025", "Suffolk County", 803907, 42.33, -71.07),
    ("26", "163", "Wayne County", 1749343, 42.28, -83.26),
    ("27", "053", "Hennepin County", 1265843, 45.01, -93.48),
    ("28", "049", "Hinds County", 231840, 32.27, -90.44),
    ("29", "510", "St. Louis city", 300576, 38.64, -90.24),
    ("30", "111", "Yellowstone County", 161300, 45.94, -108.27),
    ("31", "055", "Douglas County", 571327, 41.30, -96.15),
    ("32", "003", "Clark County", 2266715, 36.21, -115.01),
    ("33", "011", "Hillsborough County", 417025, 42.92, -71.72),
    ("34", "013", "Essex County", 798975, 40.79, -74.25),
    ("35", "001", "Bernalillo County", 679121, 35.05, -106.67),
    ("36", "005", "Bronx County", 1418207, 40.85, -73.87),
    ("37", "119", "Mecklenburg County", 1110356, 35.25, -80.83),
    ("38", "017", "Cass County", 181923, 46.93, -97.25),
    ("39", "035", "Cuyahoga County", 1235072, 41.43, -81.68),
    ("40", "109", "Oklahoma County", 797434, 35.55, -97.41),
    ("41", "051", "Multnomah County", 812855, 45.55, -122.42),
    ("42", "101", "Philadelphia County", 1584064, 40.00, -75.13),
    ("44", "007", "Providence County", 638931, 41.87, -71.58),
    ("45", "019", "Charleston County", 411406, 32.80, -79.94),
    ("46", "099", "Minnehaha County", 193134, 43.67, -96.79),
    ("47", "037", "Davidson County", 694144, 36.17, -86.78),
    ("48", "453", "Travis County", 1273954, 30.33, -97.78),
    ("49", "035", "Salt Lake County", 1160437, 40.67, -111.92),
    ("50", "007", "Chittenden County", 163774, 44.46, -73.08),
    ("53", "033", "King County", 2252782, 47.49, -121.83),
    ("54", "039", "Kanawha County", 178124, 38.34, -81.53),
    ("55", "079", "Milwaukee County", 945726, 43.01, -87.97),
    ("56", "021", "Laramie County", 99500, 41.31, -104.69),
)
_SYLLABLES = ("ash", "bel", "cor", "dun", "el", "far", "gren", "hol", "ker", "lin", "mor",
              "nor", "ox", "pem", "quin", "ros", "sal", "tam", "ven", "wel")  # fmt: skip


def _real_counties() -> list[County]:
    out = []
    for state_fips, county_fips, name, pop, lat, lon in _REAL:
        state, postal = _BY_FIPS[state_fips]
        out.append(County(state_fips, county_fips, name, state, postal, pop, lat, lon))
    return out


@lru_cache(maxsize=32)
def counties(n: int, seed: int) -> tuple[County, ...]:
    """The first n counties of the world: real ones, then synthetic ones in real states."""
    world = _real_counties()[:n]
    seen = {c.census_name.lower() for c in world}
    i = 0
    while len(world) < n:
        r = rng(seed, "synthetic-county", i)
        name = "".join(r.choice(_SYLLABLES) for _ in range(r.randint(2, 3))).capitalize()
        state, postal, _, fips = STATES[r.randrange(len(STATES))]
        county = County(
            fips,
            f"{901 + i:03d}"[-3:],
            f"{name} County",
            state,
            postal,
            r.randint(5_000, 900_000),
            round(r.uniform(30, 47), 2),
            round(r.uniform(-120, -75), 2),
        )
        i += 1
        if county.census_name.lower() not in seen:
            seen.add(county.census_name.lower())
            world.append(county)
    return tuple(world)
