"""The disclosure policy: thresholds, their documented values, the override reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ctip_research.config.privacy import THRESHOLD_FLOORS, looser_than_floor
from ctip_research.errors import DisclosureError

THRESHOLD_NAMES: tuple[str, ...] = tuple(THRESHOLD_FLOORS)


@dataclass(frozen=True)
class DisclosurePolicy:
    """The rules' thresholds (``params.privacy``) and which indicators are trafficking cases.

    A threshold looser than its documented value (:data:`~ctip_research.config.privacy.
    THRESHOLD_FLOORS`) needs ``override_reason``; every check record prints the reason and the
    overridden thresholds.

    Examples
    --------
    >>> DisclosurePolicy().min_cell_count
    10
    >>> DisclosurePolicy(min_cell_count=5)
    Traceback (most recent call last):
    ...
    ctip_research.errors.DisclosureError: min_cell_count = 5 is looser than its documented value 10; ...
    """

    min_cell_count: int = 10
    min_cell_count_trafficking: int = 11
    reliability_suppress_below: int = 25
    reliability_flag_below: int = 50
    dominance_n1_pct: float = 50.0
    dominance_n2_pct: float = 67.0
    min_residual_df: int = 10
    trafficking_indicators: tuple[str, ...] = ("has_forced_labour_case",)
    override_reason: str | None = None

    def __post_init__(self) -> None:
        looser = self.overridden
        if looser and not (self.override_reason and self.override_reason.strip()):
            detail = "; ".join(
                f"{k} = {getattr(self, k):g} is looser than its documented value "
                f"{THRESHOLD_FLOORS[k][0]:g}"
                for k in looser
            )
            raise DisclosureError(
                f"{detail}; a looser threshold needs an override reason (privacy.override_reason)"
            )
        object.__setattr__(self, "trafficking_indicators", tuple(self.trafficking_indicators))

    @classmethod
    def from_privacy(cls, privacy: Any) -> DisclosurePolicy:
        """The policy of a :class:`~ctip_research.config.privacy.PrivacyParams` (or a mapping)."""
        get = privacy.get if isinstance(privacy, dict) else lambda k, d=None: getattr(privacy, k, d)
        kwargs: dict[str, Any] = {k: get(k) for k in THRESHOLD_NAMES if get(k) is not None}
        traf = get("trafficking_indicators")
        if traf is not None:
            kwargs["trafficking_indicators"] = tuple(traf)
        kwargs["override_reason"] = get("override_reason")
        return cls(**kwargs)

    @property
    def overridden(self) -> list[str]:
        """Thresholds set looser than their documented value."""
        return looser_than_floor(self.thresholds())

    def thresholds(self) -> dict[str, float | int]:
        """The numeric thresholds by name."""
        return {k: getattr(self, k) for k in THRESHOLD_NAMES}

    def minimum_for(self, is_trafficking: bool) -> int:
        """The minimum number of units behind a cell (about trafficking cases or not)."""
        return self.min_cell_count_trafficking if is_trafficking else self.min_cell_count

    def is_trafficking(self, names: Sequence[str] | str) -> bool:
        """Whether any of ``names`` (indicators / outcomes) is about trafficking cases."""
        items = [names] if isinstance(names, str) else list(names)
        return any(str(n) in self.trafficking_indicators for n in items)

    def describe(self) -> dict[str, Any]:
        """The policy as printed in every check record."""
        return {
            "thresholds": self.thresholds(),
            "documented_values": {k: v for k, (v, _) in THRESHOLD_FLOORS.items()},
            "overridden": self.overridden,
            "override_reason": self.override_reason,
            "trafficking_indicators": list(self.trafficking_indicators),
        }
