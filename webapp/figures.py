"""Figures as people read them: parts that add up to the total shown, whole percentages.

Every page that shows a total next to its parts (received + sent = data, MO + MT = SMS)
rounds them here, so that the parts as displayed add up to the total as displayed.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class RoundedSum:
    """A total rounded once from the exact parts, and the parts rounded to add up to it."""

    parts: tuple[Decimal, ...]
    total: Decimal


def rounded_parts(parts: Sequence[Decimal | float | int], *, places: int = 1) -> RoundedSum:
    """Round the total of `parts` (half up), then the parts so that they add up to it.

    Largest remainder: each part is rounded down, and the units the total still lacks go to
    the parts that lost the most (the first of equals first). No part moves by a whole unit.
    """
    unit = Decimal(1).scaleb(-places)
    exact = [Decimal(str(part)) for part in parts]
    total = sum(exact, Decimal(0)).quantize(unit, ROUND_HALF_UP)
    floors = [part.quantize(unit, ROUND_FLOOR) for part in exact]
    missing = int((total - sum(floors, Decimal(0))) / unit)
    by_remainder = sorted(range(len(exact)), key=lambda i: floors[i] - exact[i])
    for index in by_remainder[:missing]:
        floors[index] += unit
    return RoundedSum(tuple(floors), total)


def percent_of(part: Decimal | None, whole: Decimal | None) -> int | None:
    """`part` as a whole percentage of `whole` (None if unknown), rounded half up, except that
    a part above nothing never shows as 0 % and a part short of the whole never as 100 %."""
    if part is None or not whole:
        return None
    share = Decimal(100) * Decimal(part) / Decimal(whole)
    percent = int(share.quantize(Decimal(1), ROUND_HALF_UP))
    if 0 < share < 1:
        return 1
    if 99 < share < 100:
        return 99
    return percent
