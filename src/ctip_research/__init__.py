"""ctip_research: does microfinance indebtedness push Cambodian rural households into (risky) migration?

The package is a library first: pure functions on pandas DataFrames (``schemas``, ``synth``, ``ingest``,
``clean``, ``features``, ``survey``, ``models``, ``reporting``). Thin pipeline stages
(``ctip_research.stages``) read files, call the library and write outputs atomically; the CLI (``ctip``),
``dvc.yaml`` and the notebooks call the stages.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ctip_research")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
