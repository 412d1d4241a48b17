"""Pipeline stages: one ``run_<stage>(params)`` per DVC stage.

A stage reads its inputs, calls library functions, and writes its outputs and metrics atomically
(:mod:`ctip_research.io`). It holds no analysis logic of its own. Nothing in the library imports
this package.
"""
