"""The row ledger of the clean stage: rows in = rows out + rows excluded (with reasons)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd


def build_ledger(
    rows_in: Mapping[str, int], rows_out: Mapping[str, int], exclusions: pd.DataFrame
) -> dict[str, object]:
    """Per table: rows in, rows out, rows excluded by reason, and whether the ledger balances.

    Examples
    --------
    >>> ex = pd.DataFrame({"table": ["loans"], "reason": ["orphan row"]})
    >>> led = build_ledger({"loans": 3}, {"loans": 2}, ex)
    >>> led["loans"]["excluded"], led["loans"]["balanced"]
    ({'orphan row': 1}, True)
    """
    out: dict[str, object] = {}
    for name, n_in in rows_in.items():
        ex = exclusions.loc[exclusions["table"] == name] if not exclusions.empty else exclusions
        by_reason = (
            {str(k): int(v) for k, v in ex["reason"].value_counts(sort=False).sort_index().items()}
            if not ex.empty
            else {}
        )
        n_ex = sum(by_reason.values())
        n_out = int(rows_out.get(name, 0))
        out[name] = {
            "rows_in": int(n_in),
            "rows_out": n_out,
            "rows_excluded": n_ex,
            "excluded": by_reason,
            "balanced": int(n_in) == n_out + n_ex,
        }
    return out
