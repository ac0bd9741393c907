"""Deterministic randomness: every value is drawn from a generator seeded by what it describes."""

from __future__ import annotations

import base64
import hashlib
import random


def key_int(*parts: object) -> int:
    """A stable 64-bit integer for a tuple of parts (Python's hash() is salted per process)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def rng(*parts: object) -> random.Random:
    return random.Random(key_int(*parts))


def unit(*parts: object) -> float:
    """A stable number in [0, 1)."""
    return key_int(*parts) / 2**64


def yelp_id(*parts: object) -> str:
    """A 22-character id in the url-safe alphabet, like Yelp's encrypted ids."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=16).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
