"""``params.yaml``: one section per stage, each a frozen pydantic model with ``extra="forbid"``.

:func:`load_params` reads and validates the whole file. An unknown key, a missing key or a wrong
type stops the run with a :class:`~ctip_research.errors.ParamsError` naming the key path
(``fit.models[2].outcome``) and the expected type.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError, model_validator

from ctip_research.config.base import Section
from ctip_research.config.brief import BriefParams
from ctip_research.config.clean import CleanParams
from ctip_research.config.features import FeaturesParams
from ctip_research.config.figures import FiguresParams
from ctip_research.config.fit import FitParams
from ctip_research.config.ingest import IngestParams
from ctip_research.config.monte_carlo import MonteCarloParams
from ctip_research.config.paths import PathsParams
from ctip_research.config.power import PowerParams
from ctip_research.config.privacy import PrivacyParams
from ctip_research.config.reach import ReachParams
from ctip_research.config.report import ReportParams
from ctip_research.config.risk import RiskParams
from ctip_research.config.synth import DEFAULT_SCENARIO, SynthParams
from ctip_research.errors import ParamsError
from ctip_research.strict_yaml import load_yaml

__all__ = ["Params", "Section", "load_params", "params_hash", "parse_params"]


class Params(Section):
    """All analysis choices of the pipeline, as read from ``params.yaml``."""

    paths: PathsParams
    privacy: PrivacyParams
    synth: SynthParams
    ingest: IngestParams
    clean: CleanParams
    features: FeaturesParams
    fit: FitParams
    risk: RiskParams
    figures: FiguresParams
    report: ReportParams
    brief: BriefParams
    power: PowerParams
    monte_carlo: MonteCarloParams
    reach: ReachParams

    @model_validator(mode="after")
    def _check_monte_carlo(self) -> Params:
        known = [DEFAULT_SCENARIO, *self.synth.scenarios]
        unknown = [s for s in self.monte_carlo.scenarios if s not in known]
        if unknown:
            raise ValueError(
                f"monte_carlo.scenarios: unknown scenario(s) {unknown}; known: {known} "
                "(synth.scenarios)"
            )
        if len(set(self.monte_carlo.scenarios)) != len(self.monte_carlo.scenarios):
            raise ValueError("monte_carlo.scenarios: a scenario is listed twice")
        return self


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<top level>"


def _format_errors(source: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = _loc(tuple(err["loc"]))
        kind = err["type"]
        if kind == "extra_forbidden":
            msg = "unknown key (not a parameter of this section; check the spelling)"
        elif kind == "missing":
            msg = "required key is missing"
        else:
            msg = err["msg"]
            if "input" in err and not isinstance(err["input"], dict | list):
                msg += f" (got {err['input']!r})"
        lines.append(f"  - {where}: {msg}")
    return f"{source} has {len(lines)} invalid parameter(s):\n" + "\n".join(lines)


def parse_params(data: dict[str, Any], *, source: str = "params") -> Params:
    """Validate a params mapping (as read from YAML) into :class:`Params`."""
    try:
        return Params.model_validate(data)
    except ValidationError as exc:
        raise ParamsError(_format_errors(source, exc)) from None


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate ``params.yaml``.

    Examples
    --------
    >>> params = load_params("params.yaml")
    >>> params.synth.seed
    20221
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParamsError(f"params file {path} not found (pass --params PATH)") from None
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ParamsError(
            f"{path} is not valid YAML{where}: {getattr(exc, 'problem', exc)}"
        ) from None
    if not isinstance(data, dict):
        raise ParamsError(f"{path} must be a mapping of sections, got {type(data).__name__}")
    return parse_params(data, source=str(path))


def params_hash(params: Params, *sections: str) -> str:
    """SHA-256 (first 12 hex digits) of the given sections (all if none), for provenance."""
    dump = params.model_dump(mode="json")
    if sections:
        dump = {k: dump[k] for k in sections}
    blob = json.dumps(dump, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:12]
