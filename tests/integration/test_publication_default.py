"""Publication safety on the default data, end to end (the whole pipeline in a temporary copy).

- Every file of the published tree has a passing check record (the audit walks it).
- No forced-labour cell rests on fewer than 11 cases and no complement on fewer than 10
  households anywhere, ``estimates.csv`` included: recounted here from the run's own internal
  household table, independently of the disclosure authority's counts.
- The brief's traceability: every number on the rendered page, with its source, each value
  read again from the artefact it names.
- With ``fit.alpha: 0.10`` and the other levels at 0.90, the brief, the figure captions and the
  rendered notebooks say 90% and never 95%.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from reliability_support import REPO_ROOT, RUNNER

from ctip_research.config import load_params, params_hash
from ctip_research.disclosure import audit_publication, number_tokens
from page_text import visible_text
from site_browser import ARTEFACTS, check_site, problems

pytestmark = pytest.mark.slow

#: Every stage of dvc.yaml, in its order (the audit last).
STAGES = (
    "synth",
    "ingest",
    "clean",
    "features",
    "risk",
    "fit",
    "validate",
    "power",
    "reach",
    "figures",
    "brief",
    "report",
    "audit",
)
#: What a 0.90 run reruns (the stages that compute or print an interval; the Monte Carlo at a
#: toy size).
LEVEL_STAGES = (
    "risk",
    "fit",
    "validate",
    "monte_carlo",
    "reach",
    "figures",
    "brief",
    "report",
    "audit",
)


def _run(root: Path, stages: tuple[str, ...]) -> None:
    proc = subprocess.run(
        [sys.executable, "run_stages.py", *stages],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]


def _workdir(root: Path, params: dict[str, Any]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO_ROOT / "notebooks", root / "notebooks", dirs_exist_ok=True)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True))
    (root / "run_stages.py").write_text(RUNNER)
    return root


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole pipeline on the repository's params.yaml, unchanged (the default data). The
    Monte Carlo study is not rerun: its committed outputs (and their check record) are used, as
    in a fresh clone, where `dvc repro` finds them up to date."""
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))
    root = _workdir(tmp_path_factory.mktemp("default"), params)
    shutil.copytree(
        REPO_ROOT / "data" / "processed" / "monte_carlo",
        root / "data" / "processed" / "monte_carlo",
    )
    _run(root, STAGES)
    return root


@pytest.fixture(scope="module")
def level_run(default_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default run's data, with every interval at 90%: fit.alpha 0.10, figures.conf_level,
    risk.ci_level and reach.conf_level 0.90 (fewer bootstrap draws: only the printed levels are tested here)."""
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["fit"]["alpha"] = 0.10
    params["figures"]["conf_level"] = 0.90
    params["risk"]["ci_level"] = 0.90
    params["reach"]["conf_level"] = 0.90
    params["risk"]["n_bootstrap"] = 50
    params["risk"]["n_permutation_repeats"] = 1
    params["fit"]["robustness"]["bootstrap_reps"] = 99
    params["fit"]["wild_bootstrap"]["reps"] = 999
    params["monte_carlo"].update(scenarios=["default"], draws=2, households_per_province=60)
    root = _workdir(tmp_path_factory.mktemp("levels"), params)
    shutil.copytree(default_run / "data", root / "data")
    _run(root, LEVEL_STAGES)
    return root


# --------------------------------------------------------------------------- the published tree


def test_every_published_file_has_a_passing_check_record(default_run: Path) -> None:
    processed = default_run / "data" / "processed"
    result = audit_publication(processed)
    assert result["passed"], result["problems"]
    assert result["n_files"] >= 70
    # the pipeline's own audit stage ran and passed on the same tree
    stage = json.loads((default_run / "data/interim/audit/publication.json").read_text())
    assert stage["passed"] and stage["n_files"] == result["n_files"]
    for name in ("estimates.csv", "descriptive.csv", "robustness.csv"):
        assert (processed / "models" / name).exists()
    # a file changed after it was checked is caught
    target = processed / "models" / "robustness.csv"
    original = target.read_bytes()
    try:
        target.write_bytes(original + b"\n")
        assert (
            "models/robustness.disclosure.json: robustness.csv changed after it was checked"
            in (audit_publication(processed)["problems"])
        )
    finally:
        target.write_bytes(original)


def _wave1(root: Path) -> pd.DataFrame:
    hw = pd.read_parquet(root / "data/processed/analysis/household_wave.parquet")
    return hw[hw["wave"] == 1]


def _recount(hw: pd.DataFrame, indicator: str, domain: str, level: str) -> tuple[int, int]:
    """(cases, households) behind a descriptive cell, counted here from the household table."""
    y = hw[indicator].astype("Float64")
    mask = pd.Series(True, index=hw.index)
    if domain != "all":
        values = hw[domain].astype("Float64") if hw[domain].dtype.kind == "b" else hw[domain]
        mask = values.astype(str).isin([level, level.removesuffix(".0")])
        if hw[domain].dtype.name == "boolean":
            mask = hw[domain].astype("Float64") == float(level)
    base = mask & y.notna()
    return int((y[base] == 1).sum()), int(base.sum())


def test_no_forced_labour_cell_below_eleven_nor_complement_below_ten(default_run: Path) -> None:
    hw = _wave1(default_run)
    models = default_run / "data/processed/models"
    est = pd.read_csv(models / "estimates.csv")
    desc = est[est["model"] == "descriptive"]
    checked = Counter()
    for r in desc.itertuples(index=False):
        domain, level = str(r.term).split("=", 1)
        cases, households = _recount(hw, r.outcome, domain, level)
        minimum = 11 if r.outcome == "has_forced_labour_case" else 10
        safe = cases >= minimum and households - cases >= 10 and households >= 25
        if r.status == "suppressed":
            assert pd.isna(r.estimate) and pd.isna(r.n_obs)
            checked["suppressed"] += 1
        else:
            assert safe, (r.outcome, r.term, "published on too few households")
            assert int(r.n_obs) == households and int(r.n_numerator) == cases
            checked["published"] += 1
        if r.outcome == "has_forced_labour_case" and not safe:
            assert r.status == "suppressed", r.term
            checked["forced-labour cells under 11 cases, suppressed"] += 1
    # the default survey has forced-labour provinces under 11 cases (the reason for the rule)
    assert checked["forced-labour cells under 11 cases, suppressed"] >= 3
    # descriptive.csv is the same table
    table = pd.read_csv(models / "descriptive.csv", dtype={"level": str})
    assert (table["status"] == "suppressed").sum() == checked["suppressed"]
    # regressions about forced labour: cases behind the exposure (among exposed and unexposed)
    rob = est[(est["outcome"] == "has_forced_labour_case") & (est["model"] != "descriptive")]
    assert len(rob)
    for (model, term), rows in rob.groupby(["model", "term"]):
        row = rows.iloc[0]
        column = hw[term] if term in hw.columns else None
        if column is None or row["status"] == "suppressed":
            continue
        x = column.astype("Float64")
        y = hw["has_forced_labour_case"].astype("Float64")
        ok = x.notna() & y.notna()
        if set(x[ok].unique()) <= {0.0, 1.0}:
            for value in (0.0, 1.0):
                assert int(((x == value) & (y == 1) & ok).sum()) >= 11, (model, term, value)
                assert int(((x == value) & (y == 0) & ok).sum()) >= 10, (model, term, value)
    # female-headed households with a forced-labour case are fewer than 11: that coefficient
    # is not published in any forced-labour model
    female = rob[rob["term"] == "head_is_female"]
    assert len(female) and (female["status"] == "suppressed").all()
    # ... nor in results.json (coefficient, covariance) nor in the regression tables
    results = json.loads((models / "results.json").read_text())
    forced = [m for m in results["robustness"] if m["outcome"] == "has_forced_labour_case"]
    assert forced and all("head_is_female" not in m["terms"]["term"] for m in forced)
    assert all(len(m["covariance"]) == len(m["terms"]["term"]) for m in forced)
    for table in (models / "tables").glob("robustness_*.md"):
        lines = table.read_text().splitlines()  # rows carry labels; the note names the column
        assert "Household head is female = head_is_female" in lines[-1]
        row = next(r for r in lines if r.startswith("| Household head is female |"))
        assert row.rstrip(" |").split("|")[-1].strip() != "" and row.endswith("|  |"), row
    assert int(((hw["head_is_female"] == True) & (hw["has_forced_labour_case"] == True)).sum()) < 11  # noqa: E712


def test_published_cell_tables_keep_numerators_and_complements_above_the_minimum(
    default_run: Path,
) -> None:
    processed = default_run / "data/processed"
    n_tables = 0
    for path in sorted(processed.rglob("*.csv")):
        if path.relative_to(processed).parts[0] not in ("models", "figures", "risk"):
            continue
        table = pd.read_csv(path)
        if "n_denominator" not in table.columns and "n_obs" in table.columns:
            table = table.rename(columns={"n_obs": "n_denominator"})
        if not {"n_numerator", "n_denominator", "status"} <= set(table.columns):
            continue
        n_tables += 1
        shown = table[(table["status"] != "suppressed") & table["n_numerator"].notna()]
        traf = shown.get("is_trafficking", pd.Series(False, index=shown.index)).astype(bool)
        minimum = traf.map({True: 11, False: 10})
        assert (shown["n_numerator"] >= minimum).all(), path.name
        assert (shown["n_denominator"] - shown["n_numerator"] >= 10).all(), path.name
    assert n_tables >= 4  # estimates.csv, descriptive.csv and the two descriptive figures
    # the descriptive report shows no forced-labour province under 11 cases
    page = (processed / "reports/descriptive.html").read_text(encoding="utf-8")
    start = page.index("(has_forced_labour_case): weighted share by province")  # label (name)
    table = page[page.index("<table", start) : page.index("</table>", start)]
    cases = _wave1(default_run).groupby("province_code")["has_forced_labour_case"].sum()
    n_rows = 0
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table, flags=re.S)[1:]:
        cells = [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, flags=re.S)
        ]
        code = cells[0]
        n_rows += 1
        if code.isdigit() and cases[int(code)] < 11:
            assert "suppressed" in cells, code
    assert n_rows == 9  # 8 provinces and the total


# --------------------------------------------------------------------------- brief traceability


def _params_value(params: dict[str, Any], path: str) -> Any:
    value: Any = params
    for part in re.findall(r"[^.\[\]]+|\[[^\]]+\]", path):
        if part.startswith("["):
            key = part[1:-1]
            value = next(m for m in value if m.get("name") == key)
        else:
            value = value[part]
    return value


def _json_value(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data[part] if not isinstance(data, list) else data[int(part)]
    return data


def _expected_text(value: float, fmt: str) -> str | None:
    if fmt == "pp1":
        return f"{100 * value:.1f}".replace("-0.0", "0.0")
    if fmt == "abs_pp1":
        return f"{100 * abs(value):.1f}".replace("-0.0", "0.0")
    if fmt == "pct0":
        return f"{100 * value:.0f}%"
    if fmt == "level":
        return f"{100 * value:.1f}".rstrip("0").rstrip(".") + "%"
    if fmt == "count":
        return f"{round(value):,}"
    return None


def _resolve(root: Path, entry: dict[str, Any], params: dict[str, Any]) -> Any:
    """Read the traced value again from the artefact the entry names (independently)."""
    processed = root / "data/processed"
    source, derivation = entry["source"], entry.get("derivation") or ""
    if source == "package":
        return f"ctip_research {version('ctip_research')}"
    if source == "params.yaml":
        if derivation.startswith("params hash"):
            return params_hash(load_params(root / "params.yaml"), "privacy", "brief", "figures")
        value = _params_value(params, entry["path"])
        if derivation.startswith("position of "):
            return value.index(derivation.removeprefix("position of ")) + 1
        return value
    path = processed / source
    if source == "tables/survey.json" and "path" not in entry:
        ident = json.loads(path.read_text(encoding="utf-8"))
        n = len(ident["provinces"])
        provinces = f"{n} province{'s' if n != 1 else ''}"
        if derivation.startswith("survey name and number of provinces"):
            return f"{ident['survey']}, {provinces}"
        if derivation.startswith("survey description"):
            words = {1: "one", 2: "two", 3: "three", 4: "four"}
            years = sorted({y for w in ident["waves"] for y in w["interview_years"]})
            n_waves = len(ident["waves"])
            return (
                f"{ident['survey']}: {words.get(n_waves, str(n_waves))}-wave household survey"
                f" ({', '.join(map(str, years))}) in {provinces}"
            )
    if derivation.startswith("sha256"):
        return hashlib.sha256(path.read_bytes()).hexdigest()[: len(entry["text"])]
    if source.endswith(".csv"):
        table = pd.read_csv(path, dtype=str)
        if derivation == "rows with status suppressed":
            return int((table["status"] == "suppressed").sum())
        mask = pd.Series(True, index=table.index)
        for col, val in entry["row"].items():
            mask &= table[col] == str(val)
        assert mask.sum() == 1, entry
        cell = table.loc[mask, entry["column"]].iloc[0]
        try:
            return float(cell)
        except ValueError:
            return cell
    data = json.loads(path.read_text(encoding="utf-8"))
    value = _json_value(data, entry["path"])
    if derivation == "length":
        return len(value)
    if derivation == "first":
        return value[0]
    return value


def test_brief_traceability_lists_every_number_on_the_page_with_its_source(
    default_run: Path,
) -> None:
    processed = default_run / "data/processed"
    params = yaml.safe_load((default_run / "params.yaml").read_text())
    content = json.loads((processed / "brief/brief.json").read_text(encoding="utf-8"))
    page = visible_text((processed / "brief/brief.html").read_text(encoding="utf-8"))
    printed = Counter(number_tokens(page))
    entries = [e for b in content["blocks"] for e in b["trace"]]
    traced = Counter(t for e in entries for t in number_tokens(str(e["text"])))
    untraced = printed - traced
    listing = []
    for e in entries:
        value = _resolve(default_run, e, params)
        expected = (
            _expected_text(float(value), e["format"])
            if e["format"] in ("pp1", "abs_pp1", "pct0", "level", "count")
            else None
        )
        where = e.get("path") or e.get("derivation") or f"{e.get('row')} {e.get('column')}"
        listing.append(f"{e['text']:>16}  {e['source']}  {where}  = {value!r}")
        if expected is not None:
            assert e["text"] == expected, (e, value)
        elif e["format"] == "phrase":
            assert value == e["value"], (e, value)
        elif e["source"] == "tables/survey.json" and "path" not in e:
            assert e["text"] == value, (e, value)
        else:  # printed text read from the source: its numbers are the source's numbers
            assert Counter(number_tokens(e["text"])) <= Counter(number_tokens(str(value))), e
    print("\n".join(["every number of the brief with its source:", *listing]))
    assert not untraced, f"numbers on the page without a source: {dict(untraced)}"
    assert sum(printed.values()) >= 80
    record = json.loads((processed / "brief/brief.disclosure.json").read_text())
    assert record["passed"] and {c["check"] for c in record["checks"]} >= {"traceability"}


def test_the_default_brief_makes_no_mechanism_claim(default_run: Path) -> None:
    content = json.loads((default_run / "data/processed/brief/brief.json").read_text())
    # naive OLS and the preferred estimate differ, and no model estimates why
    assert "mechanism" not in {s["claim"] for s in content["sentences"]}
    text = " ".join([*content["key_points"], *(f["text"] for f in content["findings"])])
    assert not re.search(r"distress|hardship|times the preferred", text, re.I)


# --------------------------------------------------------------------------- levels from params


def _visible_text(path: Path) -> str:
    if path.suffix == ".html":
        return visible_text(path.read_text(encoding="utf-8"))
    return path.read_text(encoding="utf-8")


def test_at_ninety_percent_the_brief_captions_and_notebooks_never_say_95(level_run: Path) -> None:
    processed = level_run / "data/processed"
    texts = {
        "brief": [processed / "brief/brief.html", processed / "brief/brief.json"],
        "captions": sorted((processed / "figures").glob("*.caption.md"))
        + sorted((processed / "figures").glob("*.alt.txt")),
        "notebooks": sorted((processed / "reports").glob("*.html")),
        "other text": [processed / "validation/validation.md", processed / "risk/model_card.md"],
    }
    for kind, paths in texts.items():
        assert paths, kind
        joined = "\n".join(_visible_text(p) for p in paths)
        assert "95%" not in joined and "95 %" not in joined, (
            kind,
            re.findall(r".{60}95%.{20}", joined),
        )
        assert "90%" in joined, kind
    for name in ("debt_burden_by_province", "migration_by_debt_band", "effect_estimates"):
        assert "90% confidence intervals" in (processed / f"figures/{name}.caption.md").read_text()
    est = pd.read_csv(processed / "models/estimates.csv")
    assert set(est["conf_level"].round(10)) == {0.9}
    assert audit_publication(processed)["passed"]


def test_the_site_passes_the_browser_check_with_the_regression_table_inside_the_page(
    default_run: Path,
) -> None:
    """The published site in headless Chromium at 1280 and 390 px: every link and image
    resolves, no page is wider than the window, every image has alt text, axe-core finds no
    serious or critical violation; the main regression table (and the box it scrolls in) lies
    inside the page. Screenshots of every page go to ``test-artefacts/browser/``."""
    processed = default_run / "data" / "processed"
    reports = check_site(
        processed,
        "reports/index.html",
        shots=ARTEFACTS / "browser",
        watch={"debt_migration.html": "#tab_main"},
    )
    pages = {Path(r.url).name for r in reports}
    rendered = {p.name for p in (processed / "reports").glob("*.html")}
    assert rendered | {"brief.html"} <= pages
    assert not problems(reports), "\n".join(problems(reports))
    shots = [s.name for r in reports for s in r.screenshots]
    assert "reports__debt_migration.html@1280-tab_main.png" in shots
