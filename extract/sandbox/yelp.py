"""The Yelp Fusion world of the sandbox: businesses that drift, open and close day by day.

Every value is a pure function of (seed, county, business, day), so any day can be replayed and
the same request always answers the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from extract.sandbox.config import SandboxConfig
from extract.sandbox.counties import County
from extract.sandbox.seeding import rng, unit, yelp_id

CATEGORIES = (
    ("mexican", "Mexican"), ("pizza", "Pizza"), ("chinese", "Chinese"), ("italian", "Italian"),
    ("sushi", "Sushi Bars"), ("burgers", "Burgers"), ("coffee", "Coffee & Tea"),
    ("bakeries", "Bakeries"), ("thai", "Thai"), ("indpak", "Indian"), ("bbq", "Barbeque"),
    ("breakfast_brunch", "Breakfast & Brunch"), ("sandwiches", "Sandwiches"),
    ("seafood", "Seafood"), ("vietnamese", "Vietnamese"), ("korean", "Korean"),
    ("mediterranean", "Mediterranean"), ("tradamerican", "American (Traditional)"),
    ("newamerican", "American (New)"), ("vegan", "Vegan"), ("bars", "Bars"),
    ("icecream", "Ice Cream & Frozen Yogurt"), ("delis", "Delis"), ("ramen", "Ramen"),
    ("tacos", "Tacos"), ("steak", "Steakhouses"), ("cajun", "Cajun/Creole"),
    ("soulfood", "Soul Food"), ("greek", "Greek"), ("foodtrucks", "Food Trucks"),
)  # fmt: skip
EVENT_CATEGORIES = (
    "music", "visual-arts", "performing-arts", "film", "lectures-books", "fashion",
    "food-and-drink", "festivals-fairs", "charities", "sports-active-life", "nightlife",
    "kids-family", "other",
)  # fmt: skip
_ADJ = ("Golden", "Blue", "Little", "Happy", "Old Town", "Sunny", "Red", "Lucky", "Urban",
        "Corner", "Grand", "Rustic", "Royal", "Silver", "Green")  # fmt: skip
_NOUN = ("Dragon", "Oak", "Harbor", "Garden", "Lantern", "Fork", "Spoon", "Table", "Bridge",
         "Market", "Mill", "River", "Bean", "Flame", "Leaf")  # fmt: skip
_KIND = ("Kitchen", "Cafe", "Grill", "Bistro", "Eatery", "Diner", "House", "Bar", "Taqueria",
         "Bakery", "Tavern", "Noodle Bar")  # fmt: skip
_STREETS = ("Main", "Oak", "Maple", "Washington", "Lincoln", "Park", "Elm", "Lake", "Hill",
            "Market", "Church", "Broad", "Spring", "Center", "Union")  # fmt: skip
_SUFFIX = ("St", "Ave", "Blvd", "Rd", "Way", "Dr")
_FIRST = ("Dana", "Alex", "Sam", "Jordan", "Maria", "Wei", "Priya", "Carlos", "Aisha", "Tom",
          "Lena", "Omar", "Grace", "Ivan", "Noor", "Luis")  # fmt: skip
_REVIEW_TEXT = (
    "Great food and friendly staff. The portions were generous and the prices fair, we will "
    "definitely be back for the",
    "Service was slow on a busy night but the dishes made up for it. The house special is a "
    "must and the dessert menu",
    "Cozy spot with a short menu done well. Came for lunch, stayed for coffee and a slice of "
    "the lemon cake, which was",
    "Not what it used to be. The room was loud and my order came out lukewarm, although the "
    "staff apologised and offered",
)
OPEN_RATE = 0.02  # new businesses per day, as a share of the county's base count
CLOSE_RATE = 0.015  # chance per day that an open business closes for good
CHANGE_RATE = 0.01  # chance per day that a business renames or re-prices


@dataclass(frozen=True)
class Business:
    county: County
    index: int  # per county; base businesses first, then openers
    open_day: int
    close_day: float  # first day it no longer appears (inf: never closes)
    key: str  # stable seed key

    def active(self, day: int) -> bool:
        return self.open_day <= day < self.close_day


def day_index(config: SandboxConfig, day: date) -> int:
    return (day - config.start_date).days


def _close_day(config: SandboxConfig, key: str, open_day: int) -> float:
    # Exponential lifetime: about CLOSE_RATE of open businesses close each day.
    lifetime = -math.log(1.0 - unit(config.seed, key, "close")) / CLOSE_RATE
    return open_day + 1 + int(lifetime)


def businesses_of(config: SandboxConfig, county: County, day: int) -> list[Business]:
    """Every business of the county that has opened by `day` (closed ones included)."""
    base = config.businesses_per_county
    openers = int(day * base * OPEN_RATE) if day > 0 else 0
    out = []
    for i in range(base + openers):
        key = f"{county.fips}:{i}"
        open_day = 0 if i < base else 1 + int((i - base) / (base * OPEN_RATE))
        out.append(Business(county, i, open_day, _close_day(config, key, open_day), key))
    return out


def _events_up_to(config: SandboxConfig, key: str, topic: str, day: int) -> list[int]:
    """Days (1..day) on which a business changed `topic`; a seeded Poisson process."""
    r = rng(config.seed, key, topic)
    days: list[int] = []
    t = 0.0
    while True:
        t += r.expovariate(CHANGE_RATE)
        if t > day:
            return days
        days.append(int(t) + 1)


@lru_cache(maxsize=100_000)
def _review_counts(seed: int, key: str, base: int, days: int) -> tuple[int, ...]:
    """review_count on days 0..days: never decreasing, +0..3 on most days."""
    r = rng(seed, key, "reviews")
    counts = [base]
    for _ in range(days):
        counts.append(counts[-1] + r.choices((0, 1, 2, 3), weights=(40, 35, 17, 8))[0])
    return tuple(counts)


def review_counts(config: SandboxConfig, biz: Business, day: int) -> tuple[int, ...]:
    base = rng(config.seed, biz.key, "review-base").randint(1, 900)
    return _review_counts(config.seed, biz.key, base, day)


def business_json(config: SandboxConfig, biz: Business, day: int) -> dict[str, Any]:
    """The business as search returns it on `day`."""
    c = config
    r = rng(c.seed, biz.key, "base")
    name_version = len(_events_up_to(c, biz.key, "name", day))
    price_events = _events_up_to(c, biz.key, "price", day)
    names = rng(c.seed, biz.key, "name", name_version)
    name = f"{names.choice(_ADJ)} {names.choice(_NOUN)} {names.choice(_KIND)}"
    alias = (
        "-".join(name.lower().replace("'", "").split()) + "-" + biz.county.name.split()[0].lower()
    )
    ident = yelp_id(c.seed, biz.key)
    base_rating = r.choice((2.5, 3.0, 3.5, 3.5, 4.0, 4.0, 4.0, 4.5, 4.5, 5.0))
    drift = rng(c.seed, biz.key, "rating", day).choices((-0.5, 0.0, 0.5), weights=(1, 8, 1))[0]
    rating = min(5.0, max(1.0, base_rating + drift))
    review_count = review_counts(c, biz, day)[day]
    pr = rng(c.seed, biz.key, "price", len(price_events))
    price = None if pr.random() < 0.15 else "$" * pr.choice((1, 1, 2, 2, 2, 3, 4))
    cats = r.sample(CATEGORIES, r.choice((1, 1, 2, 3)))
    transactions = sorted(
        t for t in ("delivery", "pickup", "restaurant_reservation") if r.random() < 0.3
    )
    lat = round(biz.county.lat + r.uniform(-0.15, 0.15), 6)
    lon = round(biz.county.lon + r.uniform(-0.15, 0.15), 6)
    city = biz.county.name.split(" County")[0].split(" Parish")[0].split(" city")[0]
    city = city.replace(" Municipio", "").replace(" Borough", "").replace(" North Star", "")
    address1 = f"{r.randint(1, 9999)} {r.choice(_STREETS)} {r.choice(_SUFFIX)}"
    zip_code = f"{r.randint(10000, 99999)}"
    area, line = r.randint(201, 989), r.randint(2000000, 9999999)
    phone = "" if r.random() < 0.05 else f"+1{area}{line}"
    display_phone = f"({area}) {str(line)[:3]}-{str(line)[3:]}" if phone else ""
    state = biz.county.postal
    out: dict[str, Any] = {
        "id": ident,
        "alias": alias,
        "name": name,
        "image_url": f"https://s3-media1.fl.yelpcdn.com/bphoto/{ident[:10]}/o.jpg",
        "is_closed": False,
        "url": f"https://www.yelp.com/biz/{alias}?adjust_creative=sandbox&utm_campaign="
        "yelp_api_v3&utm_medium=api_v3_business_search&utm_source=sandbox",
        "review_count": review_count,
        "categories": [{"alias": a, "title": t} for a, t in cats],
        "rating": rating,
        "coordinates": {"latitude": None, "longitude": None}
        if r.random() < 0.03
        else {"latitude": lat, "longitude": lon},
        "transactions": transactions,
        "location": {
            "address1": address1,
            "address2": "",
            "address3": "",
            "city": city,
            "zip_code": zip_code,
            "country": "US",
            "state": state,
            "display_address": [address1, f"{city}, {state} {zip_code}"],
        },
        "phone": phone,
        "display_phone": display_phone,
        "distance": round(r.uniform(50, 20000), 3),
    }
    if price is not None:
        out["price"] = price
    _apply_faults(config, biz, out)
    return out


def _every(n: int, biz: Business, topic: str) -> bool:
    return n > 0 and int(unit(biz.key, topic) * 1_000_003) % n == 0


def _apply_faults(config: SandboxConfig, biz: Business, out: dict[str, Any]) -> None:
    if config.extra_field:
        out["business_hours"] = [
            {
                "open": [
                    {"is_overnight": False, "start": "1100", "end": "2200", "day": d}
                    for d in range(6)
                ],
                "hours_type": "REGULAR",
                "is_open_now": True,
            }
        ]
    if _every(config.bad_rating_every, biz, "bad-rating"):
        out["rating"] = 7.0
    if _every(config.negative_review_count_every, biz, "negative-reviews"):
        out["review_count"] = -abs(out["review_count"]) - 1
    if _every(config.unknown_state_every, biz, "unknown-state"):
        out["location"]["state"] = "ZZ"
    if _every(config.malformed_every, biz, "malformed"):
        del out["id"]
        out["rating"] = "four and a half"


def _revised(config: SandboxConfig, day: int) -> bool:
    return config.yelp_revised_day is not None and day_index(config, config.yelp_revised_day) == day


def _revise(config: SandboxConfig, biz: Business, out: dict[str, Any]) -> None:
    """The revised day's answer for a listed business: another rating, sometimes another name."""
    if unit(config.seed, biz.key, "revised-rating") < 0.2:
        out["rating"] = 1.0 if out["rating"] >= 3.0 else 5.0
    if unit(config.seed, biz.key, "revised-name") < 0.1:
        out["name"] = f"{out['name']} (Revised)"


def listed(config: SandboxConfig, biz: Business, day: int) -> bool:
    """Whether search lists the business on `day` (open, and not dropped by a revision)."""
    if not biz.active(day):
        return False
    return not (_revised(config, day) and unit(config.seed, biz.key, "revised-drop") < 0.125)


def search(config: SandboxConfig, county: County, day: int) -> list[dict[str, Any]]:
    """Businesses listed in the county on `day`, in a stable order."""
    open_now = [b for b in businesses_of(config, county, day) if listed(config, b, day)]
    open_now.sort(key=lambda b: yelp_id(config.seed, b.key))
    found = [business_json(config, b, day) for b in open_now]
    if _revised(config, day):
        for biz, out in zip(open_now, found, strict=True):
            _revise(config, biz, out)
    return found


def find_business(
    config: SandboxConfig, counties: tuple[County, ...], ident: str, day: int
) -> Business | None:
    return _businesses_by_id(config, counties, day).get(ident)


@lru_cache(maxsize=64)
def _businesses_by_id(
    config: SandboxConfig, counties: tuple[County, ...], day: int
) -> dict[str, Business]:
    """Every business of the day by its Yelp id: a day's survey asks for each business's reviews
    by id, and hashing every business of every county on each of those requests made the
    sandbox the slowest part of an extraction."""
    found: dict[str, Business] = {}
    for county in counties:
        for biz in businesses_of(config, county, day):
            found.setdefault(yelp_id(config.seed, biz.key), biz)
    return found


def reviews(config: SandboxConfig, biz: Business, day: int, day_date: date) -> dict[str, Any]:
    """The latest reviews (at most reviews_per_business) and the total."""
    c = config
    counts = review_counts(c, biz, day)
    total = counts[day]
    ident = yelp_id(c.seed, biz.key)
    out = []
    for n in range(total - 1, max(-1, total - 1 - c.reviews_per_business), -1):
        rr = rng(c.seed, biz.key, "review", n)
        reached = next((d for d, count in enumerate(counts) if count > n), 0)
        created_day = (
            day_date - timedelta(days=day - reached)
            if n >= counts[0]
            else (c.start_date - timedelta(days=(counts[0] - n) * 3))
        )
        created = datetime(
            created_day.year,
            created_day.month,
            created_day.day,
            rr.randint(8, 22),
            rr.randint(0, 59),
            rr.randint(0, 59),
        )
        review_id = yelp_id(c.seed, biz.key, "review", n)
        user_id = yelp_id(c.seed, "user", rr.randint(0, 5000))
        user = rng(c.seed, "user-profile", user_id)
        review = {
            "id": review_id,
            "url": f"https://www.yelp.com/biz/{ident}?adjust_creative=sandbox&hrid={review_id}"
            "&utm_campaign=yelp_api_v3&utm_medium=api_v3_business_reviews&utm_source=sandbox",
            "text": rr.choice(_REVIEW_TEXT) + "...",
            "rating": rr.choices((1, 2, 3, 4, 5), weights=(1, 1, 2, 4, 4))[0],
            "time_created": created.strftime("%Y-%m-%d %H:%M:%S"),
            "user": {
                "id": user_id,
                "profile_url": f"https://www.yelp.com/user_details?userid={user_id}",
                "image_url": None
                if user.random() < 0.4
                else f"https://s3-media3.fl.yelpcdn.com/photo/{user_id[:8]}/o.jpg",
                "name": f"{user.choice(_FIRST)} {chr(ord('A') + user.randrange(26))}.",
            },
        }
        if config.extra_field:
            review["language"] = "en"
        out.append(review)
    return {"reviews": out, "total": total, "possible_languages": ["en"]}


def events(config: SandboxConfig, county: County, day: int, day_date: date) -> list[dict]:
    """Upcoming events in the county: events_per_county per week, four weeks ahead."""
    out = []
    week = day // 7
    for w in range(week, week + 4):
        for j in range(config.events_per_county):
            r = rng(config.seed, county.fips, "event", w, j)
            start = config.start_date + timedelta(days=w * 7 + r.randint(0, 6))
            if start < day_date:
                continue
            category = r.choice(EVENT_CATEGORIES)
            slug = f"{county.name.split()[0].lower()}-{category}-{w}-{j}"
            is_free = r.random() < 0.4
            cost = None if is_free else float(r.choice((10, 15, 20, 35, 50)))
            hour = r.randint(10, 20)
            addr = f"{r.randint(1, 999)} {r.choice(_STREETS)} {r.choice(_SUFFIX)}"
            out.append({
                "id": slug,
                "name": f"{r.choice(_ADJ)} {category.replace('-', ' ').title()} Night",
                "description": "A local gathering with food, music and neighbours...",
                "category": category,
                "image_url": f"https://s3-media1.fl.yelpcdn.com/ephoto/{slug}/o.jpg",
                "event_site_url": f"https://www.yelp.com/events/{slug}",
                "tickets_url": "" if is_free else f"https://tickets.example/{slug}",
                "attending_count": r.randint(0, 300),
                "interested_count": r.randint(0, 900),
                "cost": cost,
                "cost_max": None if cost is None else cost * 2,
                "is_free": is_free,
                "is_canceled": r.random() < 0.03,
                "is_official": r.random() < 0.2,
                "latitude": round(county.lat + r.uniform(-0.1, 0.1), 6),
                "longitude": round(county.lon + r.uniform(-0.1, 0.1), 6),
                "time_start": f"{start.isoformat()}T{hour:02d}:00:00-05:00",
                "time_end": None if r.random() < 0.3
                else f"{start.isoformat()}T{hour + 3:02d}:00:00-05:00",
                "location": {"address1": addr, "address2": "", "address3": "",
                             "city": county.name.split(" County")[0], "zip_code": "00000",
                             "country": "US", "state": county.postal,
                             "display_address": [addr], "cross_streets": ""},
                "business_id": None,
            })  # fmt: skip
    return out
