"""A second, differently shaped survey through the whole pipeline, by the book.

In a fresh copy of the repository (its tracked files, a new git repository, no data, no DVC
cache), this test runs every ``bash`` block of ``docs/your-own-survey.md`` in order, applying its
``params.yaml`` block where it stands, exactly as a new user would; the README's bring-your-own-data
section holds the same commands (checked first). The survey is the example survey of
``tests/data/example_survey/`` (made by its own script, not by the synthetic generator): four
provinces the synthetic survey does not have, CSV files for wave 1, Stata files for wave 2, its own
codebooks and programme areas, no asset values. The checks are the points a researcher must be
able to trust: every stage ran; a changed raw byte makes ``dvc status`` report ``ingest``; no
synthetic label or demonstration notice in any published face; provenance names the files
ingested; the programme sample holds every treated household; the quality report has no issue
and renders.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ctip_research.io import file_sha256

REPO = Path(__file__).resolve().parents[2]
TUTORIAL = REPO / "docs" / "your-own-survey.md"
EXAMPLE = REPO / "tests" / "data" / "example_survey"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.DOTALL | re.MULTILINE)
SURVEY = "Example livelihoods panel (made-up test survey)"

pytestmark = pytest.mark.slow


def _blocks(text: str) -> list[tuple[str, str]]:
    """Fenced blocks (language, body) of a Markdown text, in order."""
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(text)]


def _commands(body: str) -> list[str]:
    return [ln.strip() for ln in body.splitlines() if ln.strip() and not ln.startswith("#")]


def _readme_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("## Bringing your own survey")
    return text[start : text.index("\n## ", start + 3)]


def _params_block(blocks: list[tuple[str, str]]) -> dict:
    (body,) = [b for lang, b in blocks if lang == "yaml" and b.startswith("# params.yaml")]
    return yaml.safe_load(body)


def test_readme_section_holds_the_tutorials_commands() -> None:
    tutorial = _blocks(TUTORIAL.read_text(encoding="utf-8"))
    readme = _blocks(_readme_section())
    steps = [c for lang, b in tutorial if lang == "bash" for c in _commands(b)]
    setup = steps[: steps.index("dvc repro") + 1]
    assert [c for lang, b in readme if lang == "bash" for c in _commands(b)] == setup
    assert _params_block(readme) == _params_block(tutorial)


def _merge(base: dict, update: dict) -> dict:
    """``update`` into ``base``: mappings merge key by key, anything else is replaced."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _fresh_clone(target: Path) -> Path:
    """The repository's tracked (and new, not ignored) files in a new git repository."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for rel in (r.decode() for r in listed if r):
        src = REPO / rel
        if src.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / rel)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    subprocess.run([*git, "add", "-A"], cwd=target, check=True)
    subprocess.run([*git, "commit", "-qm", "fresh clone"], cwd=target, check=True)
    return target


@pytest.fixture(scope="module")
def followed(tmp_path_factory) -> tuple[Path, dict[int, str]]:
    """The tutorial followed in a fresh clone; returns the clone and each bash block's output."""
    root = _fresh_clone(tmp_path_factory.mktemp("clone"))
    script = ["set -euo pipefail"]
    for i, (lang, body) in enumerate(_blocks(TUTORIAL.read_text(encoding="utf-8"))):
        if lang == "bash":
            script += [f"echo '::block {i}::'", body]
        elif lang == "yaml" and body.startswith("# params.yaml"):
            # the reader sets these entries in params.yaml (keeping the others)
            params = root / "params.yaml"
            merged = _merge(yaml.safe_load(params.read_text("utf-8")), yaml.safe_load(body))
            script.append(f"cat > params.yaml <<'PARAMS'\n{yaml.safe_dump(merged)}PARAMS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CTIP_", "DVC_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["DVC_NO_ANALYTICS"] = "1"
    proc = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    outputs: dict[int, str] = {}
    for part in proc.stdout.split("::block ")[1:]:
        number, _, rest = part.partition("::")
        outputs[int(number)] = rest
    return root, outputs


def test_drafts_report_what_the_tutorial_says(followed) -> None:
    _, outputs = followed
    tutorial = _blocks(TUTORIAL.read_text(encoding="utf-8"))
    (said,) = [b for lang, b in tutorial if lang == "text" and b.startswith("wrote")]
    printed = "".join(outputs.values())
    for line in said.strip().splitlines():
        assert line in printed


def test_every_stage_ran_on_the_second_survey(followed) -> None:
    root, _ = followed
    data = root / "data"
    assert not (data / "raw" / "synthetic").exists()  # synth is not part of this pipeline
    for stage, rel in (
        ("ingest", "interim/ingested/run.json"),
        ("clean", "processed/tables/run.json"),
        ("features", "processed/analysis/run.json"),
    ):
        record = json.loads((data / rel).read_text("utf-8"))
        assert record["stage"] == stage and record["status"] == "complete"
    for rel in (
        "processed/models/estimates.csv",
        "processed/risk/metrics.json",
        "processed/power/power.csv",
        "processed/figures/manifest.json",
        "processed/brief/brief.pdf",
        "processed/reports/index.html",
    ):
        assert (data / rel).is_file(), rel
    validation = json.loads((data / "processed/validation/metrics.json").read_text("utf-8"))
    assert validation["applicable"] is False
    ident = json.loads((data / "processed/tables/survey.json").read_text("utf-8"))
    assert ident["survey"] == SURVEY and ident["embedded_default"] is False
    assert [p["code"] for p in ident["provinces"]] == [6, 10, 20, 21]
    assert [(w["wave"], w["interview_years"]) for w in ident["waves"]] == [(1, [2021]), (2, [2024])]
    hw = pd.read_parquet(data / "processed/analysis/household_wave.parquet")
    assert sorted(hw["province_code"].unique()) == [6, 10, 20, 21]


def test_editing_a_raw_byte_makes_dvc_status_show_ingest_changed(followed) -> None:
    root, outputs = followed
    last = outputs[max(outputs)]
    assert "ingest:" in last
    assert "modified:" in last and "data/raw/example/wave1/households.csv" in last
    status = subprocess.run(
        ["dvc", "status", "--json"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        },
    )
    changed = json.loads(status.stdout)
    assert list(changed) == ["ingest"]  # only the stage that reads the file is out of date


def _faces(root: Path) -> list[Path]:
    processed = root / "data" / "processed"
    files = [*(processed / "figures").glob("*"), *(processed / "reports").glob("*")]
    files += [processed / "brief" / n for n in ("brief.html", "brief.json")]
    files += [processed / "risk" / "model_card.md"]
    return [f for f in files if f.suffix in (".md", ".txt", ".svg", ".json", ".html", ".csv")]


def test_no_synthetic_label_or_demonstration_notice_in_any_face(followed) -> None:
    root, _ = followed
    faces = _faces(root)
    assert len(faces) > 40
    for path in faces:
        text = path.read_text(encoding="utf-8").lower()
        assert "synthetic" not in text, path
        assert "demonstration" not in text, path
    caption = (root / "data/processed/figures/debt_burden_by_province.caption.md").read_text()
    assert f"Source: {SURVEY}, 4 provinces" in caption
    brief = json.loads((root / "data/processed/brief/brief.json").read_text("utf-8"))
    assert brief["data_notice"] == ""
    assert brief["methods"][0].startswith(
        f"{SURVEY}: two-wave household survey (2021, 2024) in 4 provinces;"
    )
    index = (root / "data/processed/reports/index.html").read_text("utf-8")
    assert SURVEY in index and "Svay Rieng" in index and 'class="note"' not in index


def test_provenance_names_the_ingested_files_with_their_hashes(followed) -> None:
    root, _ = followed
    prov = json.loads((root / "data/processed/reports/provenance.json").read_text("utf-8"))
    expected = {
        f"data/raw/example/{p.relative_to(EXAMPLE).as_posix()}": file_sha256(p)
        for p in EXAMPLE.rglob("*")
        if p.suffix in (".csv", ".dta", ".yaml") and p.name != "corrections.csv"
    }
    assert prov["raw_files"] == expected  # the 8 raw files and 2 codebooks, nothing synthetic
    assert prov["survey"] == SURVEY
    report = (root / "data/processed/reports/descriptive.html").read_text("utf-8")
    assert "data/raw/example/wave2/hh.dta" in report
    assert expected["data/raw/example/wave2/hh.dta"][:12] in report


def test_programme_sample_holds_every_treated_household(followed) -> None:
    root, _ = followed
    models = root / "data/processed/models"
    prog = json.loads((models / "programme.json").read_text("utf-8"))
    panel = pd.read_parquet(root / "data/processed/analysis/panel.parquet")
    treated = panel[panel["received_livelihood_grant_w2"].astype("boolean").fillna(False)]
    assert len(treated) > 0
    cells = {(c["province_code"], c["is_urban"]) for c in prog["area_cells"]}
    assert cells == {(6, False), (20, False), (21, False)}  # the example's programme areas
    assert set(zip(treated["province_code"], treated["is_urban"], strict=True)) <= cells
    for model in ("programme_did", "programme_adjusted"):
        assert prog["coverage"][model]["all_treated_in_sample"] is True
        assert f"all {len(treated)} treated households" in prog["coverage"][model]["note"]
    estimates = pd.read_csv(models / "estimates.csv")
    assert {"programme_did", "programme_adjusted"} <= set(estimates["model"])


def test_report_renders_with_zero_quality_issues(followed) -> None:
    root, _ = followed
    quality = json.loads((root / "data/processed/quality/quality_report.json").read_text("utf-8"))
    assert quality["summary"]["n_issues"] == 0
    assert quality["summary"]["n_corrections"] == 1
    page = (root / "data/processed/reports/data_quality.html").read_text("utf-8")
    assert "No quality issues found." in page


def test_reach_says_the_survey_records_no_training_module(followed) -> None:
    """The example survey records members trained but not the training module: the reach stage
    estimates the rest and says so (in its table notes and in the programme report) instead of
    failing."""
    root, _ = followed
    reach = root / "data/processed/reach"
    meta = json.loads((reach / "reach.json").read_text("utf-8"))
    assert meta["not_recorded"] == [
        "members_trained_tip_safe_migration",
        "members_trained_market_linkage",
        "members_trained_livelihood",
    ]
    table = pd.read_csv(reach / "reach.csv")
    assert "households_supported" in set(table["indicator"])
    note = "The survey does not record the training module"
    assert note in (reach / "reach.md").read_text("utf-8")
    assert note in (root / "data/processed/reports/programme.html").read_text("utf-8")
