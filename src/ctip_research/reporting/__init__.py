"""Reporting: figures, tables, the policy brief, report notebooks and the site index, each behind
the disclosure authority.
"""
