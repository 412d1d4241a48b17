"""Fake identities of the synthetic raw files: names, phone numbers, ids, free text.

Real exports carry them, so ingest's de-identification is exercised for real; none belongs to a
real person.
"""

from __future__ import annotations

import numpy as np

__all__ = ["EMPLOYERS", "NOTES", "fake_names", "fake_phones", "fake_uuids"]

_GIVEN = (
    "Sokha",
    "Dara",
    "Vanna",
    "Chenda",
    "Sophea",
    "Bopha",
    "Rith",
    "Sreymom",
    "Pisey",
    "Kosal",
    "Chantha",
    "Sothea",
    "Visal",
    "Malis",
    "Rathana",
    "Sovann",
    "Kanha",
    "Piseth",
    "Sreyneang",
    "Vuthy",
    "Leakhena",
    "Sambath",
    "Thida",
    "Narin",
    "Phalla",
    "Kimsan",
)
_FAMILY = (
    "Sok",
    "Chan",
    "Kim",
    "Heng",
    "Chea",
    "Ly",
    "Meas",
    "Keo",
    "Srey",
    "Prak",
    "Nhem",
    "Touch",
    "Hun",
    "Pen",
    "Sam",
    "Yim",
    "Ouk",
    "Mao",
    "Seng",
    "Long",
)
NOTES = (
    "Respondent busy, interview in two visits.",
    "Neighbour present for part of the interview.",
    "Husband working in Thailand, wife answered.",
    "Loan papers shown by respondent.",
    "Dog barking, hard to hear.",
    "Respondent asked about the grant programme.",
    "",
)
EMPLOYERS = (
    "construction site Rayong",
    "fishing boat Songkhla",
    "rubber farm",
    "garment factory",
    "restaurant Bangkok",
    "palm plantation",
    "",
)


def fake_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` fake Khmer names (family name, given name)."""
    fam = np.asarray(_FAMILY, dtype=object)[rng.integers(0, len(_FAMILY), n)]
    giv = np.asarray(_GIVEN, dtype=object)[rng.integers(0, len(_GIVEN), n)]
    return fam + " " + giv


def fake_phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` fake Cambodian mobile numbers in the styles enumerators type them."""
    prefix = np.asarray(["12", "17", "77", "89", "96", "97", "10", "15", "70", "81"], dtype=object)[
        rng.integers(0, 10, n)
    ]
    num = rng.integers(100000, 9999999, n).astype(str).astype(object)
    style = rng.random(n)
    return np.where(
        style < 0.5,
        "0" + prefix + num,
        np.where(style < 0.8, "+855 " + prefix + " " + num, "855" + prefix + num),
    )


def fake_uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` fake version-4 UUIDs."""
    h = rng.integers(0, 16, (n, 32))
    hexs = np.asarray(list("0123456789abcdef"))[h]
    s = ["".join(r) for r in hexs]
    return np.asarray(
        [f"{x[:8]}-{x[8:12]}-4{x[13:16]}-a{x[17:20]}-{x[20:]}" for x in s], dtype=object
    )
