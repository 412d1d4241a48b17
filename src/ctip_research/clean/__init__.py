"""Data-quality checks, duplicate resolution, reviewed corrections, and the published forms of
the processed tables (quality report, data dictionary, Stata export).

The library is pure (DataFrames in, DataFrames out); ``stages/clean.py`` reads and writes.
"""

from ctip_research.clean.pipeline import CleanResult, clean_tables

__all__ = ["CleanResult", "clean_tables"]
