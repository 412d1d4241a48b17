"""Declared fields and tables, and the pandera schemas, dtypes and dictionaries built from them."""

from ctip_research.schemas.fields import PANDAS_DTYPES, Field, Table, make_table
from ctip_research.schemas.tables import CANONICAL_TABLES, get_table
from ctip_research.schemas.validate import coerce_dtypes, to_pandera, validate_table

__all__ = [
    "CANONICAL_TABLES",
    "PANDAS_DTYPES",
    "Field",
    "Table",
    "coerce_dtypes",
    "get_table",
    "make_table",
    "to_pandera",
    "validate_table",
]
