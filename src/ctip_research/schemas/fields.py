"""Column and table declarations: the single place where a canonical column is defined.

A :class:`Field` declares name, type, unit, description and allowed values once; pandera schemas,
pandas dtypes, Stata labels and the data dictionary are all generated from these declarations
(the approach of PUDL's metadata). See ``tables.py`` for the canonical tables themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

FieldType = Literal["int", "float", "bool", "str"]

#: pandas nullable dtype for each declared type.
PANDAS_DTYPES: dict[str, str] = {
    "int": "Int64",
    "float": "Float64",
    "bool": "boolean",
    "str": "string",
}


@dataclass(frozen=True)
class Field:
    """One canonical column.

    Parameters
    ----------
    name
        snake_case column name (units as suffix: ``_usd``, ``_ha``, ``_km``, ``_months``,
        ``_ratio`` for 0-1, ``_pct`` for 0-100; booleans ``is_``/``has_``; counts ``n_``).
    type
        One of ``int``, ``float``, ``bool``, ``str``; stored with pandas nullable dtypes.
    label
        Short label (at most 80 characters, used as the Stata variable label).
    description
        Full definition in words.
    unit
        Unit of measurement, or ``None``.
    allowed
        Allowed values for a categorical column (codes for ``int``, strings for ``str``).
    minimum, maximum
        Inclusive bounds for numeric columns.
    nullable
        Whether missing values are allowed.
    value_labels
        For ``int`` codes, the label of each code (exported as Stata value labels).
    """

    name: str
    type: FieldType
    label: str
    description: str = ""
    unit: str | None = None
    allowed: tuple[str | int, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = True
    value_labels: dict[int, str] | None = None

    @property
    def dtype(self) -> str:
        """The pandas dtype name of the column."""
        return PANDAS_DTYPES[self.type]


@dataclass(frozen=True)
class Table:
    """A canonical table: an ordered list of fields and a primary key."""

    name: str
    description: str
    key: tuple[str, ...]
    fields: tuple[Field, ...] = field(default_factory=tuple)

    @property
    def columns(self) -> list[str]:
        """Column names in declared order."""
        return [f.name for f in self.fields]

    @property
    def dtypes(self) -> dict[str, str]:
        """Column name -> pandas dtype name."""
        return {f.name: f.dtype for f in self.fields}

    def field(self, name: str) -> Field:
        """Return the declaration of column ``name`` (``KeyError`` if undeclared)."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no column {name!r}")


def make_table(name: str, description: str, key: Sequence[str], fields: Sequence[Field]) -> Table:
    """Build a :class:`Table`, checking that names are unique and the key is declared."""
    names = [f.name for f in fields]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"table {name}: duplicate field(s) {dupes}")
    missing = [k for k in key if k not in names]
    if missing:
        raise ValueError(f"table {name}: key column(s) {missing} not declared")
    return Table(name=name, description=description, key=tuple(key), fields=tuple(fields))
