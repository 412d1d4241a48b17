"""``ctip sources``: the registry of data sources, written into ``dvc.yaml`` so DVC sees every file.

The registry is ``params.yaml``: ``ingest.sources`` (the codebooks) and ``clean.corrections_file``.
Each codebook lists its raw files. DVC reruns a stage only when a file it lists as a dependency
changes, so ``dvc.yaml`` must list every one of them; :func:`sync_dvc_yaml` writes them in
(``ctip sources sync``), editing only what it owns and keeping everything else, comments included:

* ``stages.ingest.deps``: every registered codebook, every raw file it lists and the
  ``manifest.json`` beside it (for the package's synthetic survey, whose files appear only when
  ``ctip synth`` has run, the directory ``<paths.raw>/synthetic`` that stage writes);
* ``stages.clean.deps``: the corrections log;
* ``stages.validate.deps``: the ground truth ``<paths.raw>/<fit.validation.truth_file>``, only when
  the synthetic survey is registered;
* ``stages.synth``: present only when the synthetic survey is registered (so ``dvc repro`` does not
  generate it for a real survey).

In those three dependency lists the generator owns every entry outside ``src/``, ``notebooks/``
and the interim and processed layers; other entries stay as written. ``ctip ingest`` refuses to
run when ``dvc.yaml`` beside ``params.yaml`` is out of step with the registry
(:func:`check_dvc_yaml`): add a source, run ``ctip sources sync``, then ``dvc repro``. Editing any
byte of a registered file then makes ``dvc status`` report ``ingest`` changed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ctip_research.config import Params
from ctip_research.errors import PipelineError
from ctip_research.ingest.codebook import read_codebook
from ctip_research.ingest.manifest import MANIFEST_NAME
from ctip_research.io import write_text
from ctip_research.log import get_logger

__all__ = [
    "SYNTH_STAGE_YAML",
    "SourceRegistry",
    "check_dvc_yaml",
    "planned_dependencies",
    "registered_sources",
    "sync_dvc_yaml",
]

log = get_logger("sources")

#: Directory of the synthetic survey under ``paths.raw`` (written by ``ctip synth``).
SYNTH_DIR = "synthetic"
#: The ``synth`` stage, inserted first in ``dvc.yaml`` while the synthetic survey is registered.
SYNTH_STAGE_YAML = """\
stages:
  synth:
    # The embedded default: calibrated synthetic two-wave survey, its codebooks and ground truth
    # (docs/synthetic.md). Deterministic from synth.seed: same params -> byte-identical files.
    cmd: ctip synth --params params.yaml
    deps:
      - src/ctip_research/determinism.py
      - src/ctip_research/synth
      - src/ctip_research/stages/synth.py
      - src/ctip_research/config/synth.py
      - src/ctip_research/ingest/pseudonymise.py
      - src/ctip_research/identity.py
      - src/ctip_research/schemas
    params:
      - synth
      - privacy.demo_key
    outs:
      - data/raw/synthetic
"""
#: Stages whose data dependencies the registry writes.
OWNED_STAGES = ("ingest", "clean", "validate")


def _posix(path: str | Path) -> str:
    text = Path(path).as_posix()
    return str(PurePosixPath(text)) if text else text


@dataclass
class SourceRegistry:
    """Every file the registered sources bring into the pipeline."""

    codebooks: list[str] = field(default_factory=list)
    raw_files: list[str] = field(default_factory=list)
    manifests: list[str] = field(default_factory=list)
    corrections: str | None = None
    synthetic_dir: str | None = None

    @property
    def has_synthetic(self) -> bool:
        """Whether the package's synthetic survey is registered."""
        return self.synthetic_dir is not None


def _inside(path: Path, directory: Path) -> bool:
    try:
        path.resolve().relative_to(directory.resolve())
    except ValueError:
        return False
    return True


def registered_sources(params: Params, *, root: Path = Path(".")) -> SourceRegistry:
    """The registry: codebooks, their raw files and manifests, the corrections log.

    Paths are as written in ``params.yaml`` (relative to ``root``, the directory of
    ``params.yaml`` and ``dvc.yaml``); raw files are the codebook's directory joined with the
    path the codebook gives. Codebooks of the synthetic survey are not read (they exist only
    after ``ctip synth``): its directory stands for them.
    """
    reg = SourceRegistry()
    synth_dir = Path(params.paths.raw) / SYNTH_DIR
    for source in params.ingest.sources:
        if _inside(root / source, root / synth_dir):
            reg.synthetic_dir = _posix(synth_dir)
            continue
        reg.codebooks.append(_posix(source))
        cb = read_codebook(root / source)
        base = Path(source).parent
        for f in cb.files:
            rel = _posix(base / f.path)
            if rel not in reg.raw_files:
                reg.raw_files.append(rel)
        manifest = base / MANIFEST_NAME
        if (root / manifest).is_file() and _posix(manifest) not in reg.manifests:
            reg.manifests.append(_posix(manifest))
    if params.clean.corrections_file is not None:
        reg.corrections = _posix(params.clean.corrections_file)
    return reg


def planned_dependencies(params: Params, *, root: Path = Path(".")) -> dict[str, list[str]]:
    """The data dependencies each owned stage should list (``ingest``, ``clean``, ``validate``).

    Examples
    --------
    >>> from ctip_research.config import load_params
    >>> planned_dependencies(load_params("params.yaml"))["ingest"]
    ['data/raw/synthetic']
    """
    reg = registered_sources(params, root=root)
    ingest = [*([reg.synthetic_dir] if reg.synthetic_dir else [])]
    ingest += [*reg.codebooks, *reg.raw_files, *reg.manifests]
    truth = _posix(Path(params.paths.raw) / params.fit.validation.truth_file)
    return {
        "ingest": list(dict.fromkeys(ingest)),
        "clean": [reg.corrections] if reg.corrections else [],
        "validate": [truth] if reg.has_synthetic else [],
    }


def _owned(entry: Any, params: Params) -> bool:
    """Whether a dependency entry is a data source the registry writes."""
    if not isinstance(entry, str):
        return False
    text = _posix(entry)
    kept = ("src/", "notebooks", _posix(params.paths.interim), _posix(params.paths.processed))
    return not any(text == k.rstrip("/") or text.startswith(k.rstrip("/") + "/") for k in kept)


def _yaml() -> Any:
    from ruamel.yaml import YAML

    y = YAML()
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096
    y.preserve_quotes = True
    return y


def _plan(params: Params, doc: Any, root: Path) -> list[str]:
    """Edit ``doc`` (a round-trip ``dvc.yaml``) in place to match the registry; say what changed."""
    stages = doc.get("stages")
    if stages is None:
        raise PipelineError("dvc.yaml has no `stages` section")
    planned = planned_dependencies(params, root=root)
    changes: list[str] = []
    for name in OWNED_STAGES:
        stage = stages.get(name)
        if stage is None:
            raise PipelineError(f"dvc.yaml has no `{name}` stage")
        deps = stage.get("deps")
        if deps is None:
            raise PipelineError(f"dvc.yaml: stage `{name}` has no `deps`")
        current = [d for d in deps if _owned(d, params)]
        if current == planned[name]:
            continue
        for d in current:
            if d not in planned[name]:
                changes.append(f"{name}: - {d}")
        for d in planned[name]:
            if d not in current:
                changes.append(f"{name}: + {d}")
        for i in reversed(range(len(deps))):
            if _owned(deps[i], params):
                del deps[i]
        for d in planned[name]:
            deps.append(d)
    wants_synth = bool(planned["validate"])
    if wants_synth and "synth" not in stages:
        template = _yaml().load(SYNTH_STAGE_YAML)["stages"]["synth"]
        stages.insert(0, "synth", template)
        changes.append("synth: stage added (the synthetic survey is registered)")
    elif not wants_synth and "synth" in stages:
        del stages["synth"]
        changes.append("synth: stage removed (no registered source needs it)")
    return changes


def _load(path: Path) -> Any:
    if not path.is_file():
        raise PipelineError(f"{path} not found (run from the project root, beside params.yaml)")
    return _yaml().load(path.read_text(encoding="utf-8"))


def sync_dvc_yaml(
    params: Params, path: str | Path = "dvc.yaml", *, write: bool = True
) -> list[str]:
    """Write the registered sources into ``dvc.yaml``; return the changes (empty: in step).

    With ``write=False`` nothing is written (a dry run). Files are read relative to the
    directory of ``path``.
    """
    path = Path(path)
    doc = _load(path)
    changes = _plan(params, doc, path.parent)
    if changes and write:
        buf = io.StringIO()
        _yaml().dump(doc, buf)
        write_text(path, buf.getvalue())
        log.info("wrote %s: %s", path, "; ".join(changes))
    return changes


def check_dvc_yaml(params: Params, path: str | Path = "dvc.yaml") -> None:
    """Raise :class:`~ctip_research.errors.PipelineError` when ``dvc.yaml`` does not list the
    registered sources (``ctip sources sync`` fixes it).
    """
    changes = sync_dvc_yaml(params, path, write=False)
    if changes:
        shown = "; ".join(changes[:8]) + (
            f"; and {len(changes) - 8} more" if len(changes) > 8 else ""
        )
        raise PipelineError(
            f"{path} does not list the registered data sources, so DVC would not notice when they "
            f"change ({shown}). Run `ctip sources sync`, then `dvc repro`."
        )
