"""Studies as data: a versioned TOML file naming a grid of runs (methods x benchmarks x traces x budgets x GPUs x
seeds).

Format (`schema = "cenas-bench/study/1"`; every key but `methods` has a default):

    name = "leaderboard-nb201"            # defaults to the file stem
    description = "..."
    benchmarks = ["nb201/cifar10/pi5-energy"]
    traces = ["hotcarbon-1", "DE@2021-01-10T00:00"]   # ZONE, ZONE@START (UTC) or a named window
    budgets = ["80h"]                     # each a budget string (terms comma-separated)
    gpus = [8]
    seeds = 10                            # seeds 0..9, or an explicit list [0, 3, 7]
    accounting = "default"
    interval_hours = 1.0
    reference_method = "cenas-heuristic"  # optional: carbon ratios are reported against it
    suite = "v2"                          # optional: the benchmark suite it belongs to (leaderboards/suites; v1)
    levels = ["10%", "25%", "50%", "100%"]  # optional, declared before the runs: carbon levels the boards rank at,
                                          # fractions of a carbon budget or amounts ("25lbs"); the headline is the
                                          # normalised regret area between the first and the last

    [shared_options]                      # applied to every method that declares the key
    "tree.kernel" = "poly"

    [[trace_draws]]                       # optional: N windows drawn from a year, seeded
    zone = "US-CAL-CISO"
    year = 2021
    count = 3
    hours = 80
    seed = 0

    [[methods]]
    name = "cenas"
    options = { "tree.kernel" = "poly" }  # optional, on top of shared_options
    label = "cenas-poly"                  # optional (default: the name); variants of one method need distinct labels

Rules checked when a study is loaded (one error line each): known keys and types, known methods and valid options
(`harness methods show`), budgets parse, traces resolve, and every method with a LaMOO tree gets the same tree settings
(`tree.*`), so methods compared in one study share the partition they search with. A study about a tree setting
names it in `tree_varies = ["tree.solver"]`: its methods may differ there and nowhere else in `tree.*`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.config import RunSpec, parse_budget
from harness.errors import HarnessError
from harness.registry import Registry
from harness.studies.analysis import AnalysisCell, analysis_class

SCHEMA = "cenas-bench/study/1"
_TOP_KEYS = {
    "schema",
    "name",
    "description",
    "benchmarks",
    "traces",
    "trace_draws",
    "budgets",
    "gpus",
    "seeds",
    "accounting",
    "interval_hours",
    "reference_method",
    "shared_options",
    "methods",
    "report",
    "analysis",
    "analysis_options",
    "tree_varies",
    "suite",
    "levels",
    "hindsight",
}
_RUN_KEYS = ("methods", "budgets", "gpus", "accounting", "interval_hours", "reference_method", "shared_options")


@dataclass(frozen=True)
class MethodCell:
    """One method of a study with the options it runs with (shared options already applied)."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)
    label: str = ""  # how reports name it (default: the method's name); distinguishes variants of one method

    @property
    def display(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class TraceDraw:
    """`count` windows of `hours` hours drawn uniformly (seeded) from the complete weeks of `zone`'s `year`."""

    zone: str
    year: int
    count: int
    hours: int
    seed: int = 0

    def windows(self) -> list[str]:
        """The drawn windows as `ZONE@START` strings (starts on whole hours, windows fully inside the year)."""
        import numpy as np
        import pandas as pd

        from harness.carbon.traces import load_trace

        trace = load_trace(self.zone)
        first = pd.Timestamp(f"{self.year}-01-01T00:00", tz="UTC")
        last_start = pd.Timestamp(f"{self.year + 1}-01-01T00:00", tz="UTC") - pd.Timedelta(hours=self.hours)
        lo = max(first, trace.start)
        hi = min(last_start, trace.start + pd.Timedelta(hours=trace.hours - self.hours))
        span = int((hi - lo) / pd.Timedelta(hours=1))
        if span < self.count:
            raise HarnessError(f"trace draw {self.zone} {self.year}: too few hours for {self.count} windows")
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, self.year, *self.zone.encode()]))
        offsets = sorted(rng.choice(span + 1, size=self.count, replace=False).tolist())
        return [f"{self.zone}@{(lo + pd.Timedelta(hours=h)):%Y-%m-%dT%H:%M}" for h in offsets]


@dataclass(frozen=True)
class Cell:
    """One run of a study: a RunSpec plus where it sits in the grid."""

    spec: RunSpec
    method: str = ""  # the study's label for the method (default: its registered name)

    @property
    def name(self) -> str:
        """The method as the study names it."""
        return self.method or self.spec.method

    def label(self) -> str:
        s = self.spec
        return f"{self.name} | {s.benchmark} | {s.trace} | {budget_text(s)} | {s.gpus} GPUs | seed {s.seed}"


def budget_text(spec: RunSpec) -> str:
    return spec.budget.describe()


@dataclass(frozen=True)
class Study:
    name: str
    description: str
    methods: tuple[MethodCell, ...]
    benchmarks: tuple[str, ...]
    traces: tuple[str, ...]
    budgets: tuple[str, ...]
    gpus: tuple[int, ...]
    seeds: tuple[int, ...]
    accounting: str = "default"
    interval_hours: float = 1.0
    reference_method: str | None = None
    shared_options: dict[str, Any] = field(default_factory=dict)
    report: str | None = None  # an extra report (harness.studies.report.REPORTS)
    source: str = ""  # the file it was read from
    analysis: str | None = None  # an analysis study (harness.studies.analysis) instead of search runs
    analysis_options: dict[str, Any] = field(default_factory=dict)
    tree_varies: tuple[str, ...] = ()  # tree settings the study compares (every other tree.* setting is shared)
    suite: str = "v1"  # the benchmark suite (leaderboards/suites/NAME.toml) the study belongs to
    levels: tuple[str, ...] = ()  # declared carbon levels ("10%" of the carbon budget, "25lbs"); () in suite v1
    hindsight: tuple[dict[str, Any], ...] = ()  # bounds chosen after the runs: {label, of} (harness.studies.hindsight)

    def level_lbs(self, budget: str) -> tuple[float, ...]:
        """The declared levels in lbs CO2eq for one of the study's budgets (its carbon term for percentages)."""
        return tuple(level_lbs(level, parse_budget(budget)) for level in self.levels)

    def cells(self) -> list[Cell | AnalysisCell]:
        """Every cell, in grid order: benchmark, trace, budget, GPUs, method, seed (an analysis study: benchmark,
        trace, seed, over the axes the analysis varies)."""
        if self.analysis:
            axes = analysis_class(self.analysis).axes
            return [
                AnalysisCell(self.analysis, self.analysis_options, bench, trace, seed)
                for bench in (self.benchmarks if "benchmark" in axes else (None,))
                for trace in (self.traces if "trace" in axes else (None,))
                for seed in (self.seeds if "seed" in axes else (None,))
            ]
        return [
            Cell(
                RunSpec(
                    m.name,
                    bench,
                    trace,
                    parse_budget(budget),
                    seed,
                    gpus,
                    self.interval_hours * 3600.0,
                    self.accounting,
                    dict(m.options),
                ),
                m.display,
            )
            for bench in self.benchmarks
            for trace in self.traces
            for budget in self.budgets
            for gpus in self.gpus
            for m in self.methods
            for seed in self.seeds
        ]

    def to_dict(self) -> dict[str, Any]:
        return (
            {
                "schema": SCHEMA,
                "name": self.name,
                "description": self.description,
                "methods": [
                    {"name": m.name, "options": m.options} | ({"label": m.label} if m.label else {})
                    for m in self.methods
                ],
                "benchmarks": list(self.benchmarks),
                "traces": list(self.traces),
                "budgets": list(self.budgets),
                "gpus": list(self.gpus),
                "seeds": list(self.seeds),
                "accounting": self.accounting,
                "interval_hours": self.interval_hours,
                "reference_method": self.reference_method,
                "shared_options": self.shared_options,
                "report": self.report,
            }
            | self._analysis_fields()
            | self._optional_fields()
        )

    def _optional_fields(self) -> dict[str, Any]:
        """Keys written only when set, so the stored index of a study that does not use them stays as it was."""
        tree = {"tree_varies": list(self.tree_varies)} if self.tree_varies else {}
        suite = {"suite": self.suite, "levels": list(self.levels)} if self.suite != "v1" or self.levels else {}
        hindsight = {"hindsight": [dict(h) for h in self.hindsight]} if self.hindsight else {}
        return tree | suite | hindsight

    def _analysis_fields(self) -> dict[str, Any]:
        """An analysis study's two keys (absent from run studies, whose stored index stays as it was)."""
        return {"analysis": self.analysis, "analysis_options": self.analysis_options} if self.analysis else {}

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()


def _expect(value: Any, kinds: type | tuple[type, ...], where: str) -> Any:
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise HarnessError(f"{where}: expected {_kind_text(kinds)}, got a boolean")
    if not isinstance(value, kinds):
        raise HarnessError(f"{where}: expected {_kind_text(kinds)}, got {type(value).__name__}")
    return value


def _kind_text(kinds: type | tuple[type, ...]) -> str:
    names = [k.__name__ for k in (kinds if isinstance(kinds, tuple) else (kinds,))]
    return " or ".join(
        {"str": "text", "int": "an integer", "float": "a number", "list": "a list", "dict": "a table"}.get(n, n)
        for n in names
    )


def _list(raw: Mapping[str, Any], key: str, kind: type, default: list[Any], where: str) -> tuple[Any, ...]:
    values = raw.get(key, default)
    _expect(values, list, f"{where}: {key}")
    if not values:
        raise HarnessError(f"{where}: {key} is empty")
    return tuple(_expect(v, kind, f"{where}: {key}[{i}]") for i, v in enumerate(values))


SUITE = re.compile(r"v[1-9][0-9]?")
_LEVEL = re.compile(r"(?P<value>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>%|g|kg|t|lbs)")


def level_lbs(level: str, budget: Any) -> float:
    """One declared level ("10%" of `budget`'s carbon term, or an amount "25lbs") in lbs CO2eq."""
    from harness.units import GRAMS_PER

    match = _LEVEL.fullmatch(level.strip())
    if not match:
        raise HarnessError(f"level {level!r} is not a percentage of the carbon budget ('10%') or an amount ('25lbs')")
    value = float(match["value"])
    if match["unit"] == "%":
        if budget.carbon_g is None:
            raise HarnessError(
                f"level {level!r} is a share of the carbon budget, but the budget "
                f"{budget.describe()} has no carbon term"
            )
        return budget.carbon_g * value / 100.0 / GRAMS_PER["lbs"]
    return value * GRAMS_PER[match["unit"]] / GRAMS_PER["lbs"]


def _suite_name(value: Any, where: str) -> str:
    text = _expect(value, str, f"{where}: suite")
    if not SUITE.fullmatch(text):
        raise HarnessError(f"{where}: suite {text!r} must look like 'v2'")
    return text


def _levels(raw: Mapping[str, Any], budgets: tuple[str, ...], where: str) -> tuple[str, ...]:
    """The declared levels, each valid for every budget, increasing, positive and at most 100 % of the budget."""
    from harness.units import GRAMS_PER

    if "levels" not in raw:
        return ()
    levels = _list(raw, "levels", str, [], where)
    for budget in budgets:
        try:
            values = [level_lbs(level, parse_budget(budget)) for level in levels]
        except HarnessError as exc:
            raise HarnessError(f"{where}: {exc}") from None
        if any(v <= 0 for v in values) or any(b <= a for a, b in itertools.pairwise(values)):
            raise HarnessError(f"{where}: levels must be positive and increasing")
        carbon = parse_budget(budget).carbon_g
        if carbon is not None and values[-1] > carbon / GRAMS_PER["lbs"] * (1 + 1e-9):
            raise HarnessError(f"{where}: level {levels[-1]!r} is beyond the budget {budget}")
    return levels


def _hindsight(raw: Mapping[str, Any], names: list[str], where: str) -> tuple[dict[str, Any], ...]:
    """The `[[hindsight]]` rows: each a new `label` and at least two of the study's rows (`of`)."""
    out: list[dict[str, Any]] = []
    for i, entry in enumerate(_expect(raw.get("hindsight", []), list, f"{where}: hindsight")):
        _expect(entry, dict, f"{where}: hindsight[{i}]")
        if sorted(entry) != ["label", "of"]:
            raise HarnessError(f"{where}: hindsight[{i}] needs exactly 'label' and 'of' (got {sorted(entry)})")
        label = _expect(entry["label"], str, f"{where}: hindsight[{i}].label")
        of = _expect(entry["of"], list, f"{where}: hindsight[{i}].of")
        if not NAME.fullmatch(label) or label in names or label in [h["label"] for h in out]:
            raise HarnessError(f"{where}: hindsight[{i}].label {label!r} must be a new name ({NAME_RULE})")
        unknown = [m for m in of if m not in names]
        if unknown or len(set(of)) < 2 or len(set(of)) != len(of):
            raise HarnessError(
                f"{where}: hindsight[{i}].of must name at least two distinct rows of the study"
                + (f" ({unknown[0]!r} is none)" if unknown else "")
            )
        out.append({"label": label, "of": list(of)})
    return tuple(out)


def parse_study(raw: Mapping[str, Any], name: str, source: str = "") -> Study:
    """A Study from a decoded TOML document, every field and cross-rule checked (HarnessError, one line)."""
    from harness.methods import METHODS, method_class, resolve_options
    from harness.options import flatten, option_specs, options_dict

    where = f"study {name}"
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise HarnessError(f"{where}: unknown key(s) {', '.join(unknown)} (see docs/studies.md)")
    if raw.get("schema", SCHEMA) != SCHEMA:
        raise HarnessError(f"{where}: schema {raw.get('schema')!r} is not {SCHEMA!r}")
    if "analysis" in raw:
        return _parse_analysis_study(raw, name, source)
    if "analysis_options" in raw:
        raise HarnessError(f"{where}: analysis_options without an analysis")
    if "methods" not in raw:
        raise HarnessError(f"{where}: missing key 'methods'")
    if not _expect(raw["methods"], list, f"{where}: methods"):
        raise HarnessError(f"{where}: methods is empty: a study compares at least one method")
    shared = flatten(_expect(raw.get("shared_options", {}), dict, f"{where}: shared_options"))
    methods = []
    shared_typed: dict[str, Any] = {}
    trees: dict[str, dict[str, dict[str, Any]]] = {}  # family -> member -> the settings it must share (study_family)
    varies = _list(raw, "tree_varies", str, [], where) if "tree_varies" in raw else ()
    for i, entry in enumerate(_expect(raw["methods"], list, f"{where}: methods")):
        _expect(entry, dict, f"{where}: methods[{i}]")
        extra = sorted(set(entry) - {"name", "options", "label"})
        if extra or "name" not in entry:
            raise HarnessError(
                f"{where}: methods[{i}] needs 'name' and may have 'options' and 'label' (got {sorted(entry)})"
            )
        label = _expect(entry.get("label", ""), str, f"{where}: methods[{i}].label")
        if label and not NAME.fullmatch(label):
            raise HarnessError(f"{where}: methods[{i}].label {label!r} must be {NAME_RULE}")
        method = _expect(entry["name"], str, f"{where}: methods[{i}].name")
        if method not in METHODS:
            raise HarnessError(f"{where}: unknown method '{method}' (see `harness methods list`)")
        keys = {s.key for s in option_specs(_options_class(method))}
        own = flatten(_expect(entry.get("options", {}), dict, f"{where}: methods[{i}].options"))
        options = {k: v for k, v in shared.items() if k in keys} | own
        typed = flatten(options_dict(resolve_options(method, options)))  # bad keys, types, ranges: one error line
        methods.append(MethodCell(method, {k: typed[k] for k in options}, label))
        shared_typed.update({k: typed[k] for k in shared if k in keys and k not in own})
        family = method_class(method).study_family(typed)  # the method declares what its family shares
        if family:
            unknown_tree = sorted(set(varies) - set(family[1]))
            if unknown_tree:
                raise HarnessError(f"{where}: tree_varies names {unknown_tree[0]!r}, not a tree option of '{method}'")
            trees.setdefault(family[0], {})[label or method] = {k: v for k, v in family[1].items() if k not in varies}
    unused = sorted(set(shared) - set(shared_typed))
    if unused:
        raise HarnessError(f"{where}: shared option(s) {', '.join(unused)} apply to none of the study's methods")
    shared = {k: shared_typed[k] for k in shared}
    names = [m.display for m in methods]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise HarnessError(f"{where}: method {twice[0]!r} is listed twice; give each variant a distinct 'label'")
    for kind, members in trees.items():
        if len({json.dumps(t, sort_keys=True) for t in members.values()}) > 1:
            differing = ", ".join(f"{n}: {json.dumps(t, sort_keys=True)}" for n, t in members.items())
            raise HarnessError(
                f"{where}: {kind} methods must share tree settings (set them in [shared_options]); got {differing}"
            )
    traces = _traces(raw, where)
    seeds = _seeds(raw, where)
    gpus = _list(raw, "gpus", int, [8], where)
    if any(not 1 <= g <= 1024 for g in gpus):
        raise HarnessError(f"{where}: gpus must be in [1, 1024]")
    budgets = _list(raw, "budgets", str, ["80h"], where)
    for budget in budgets:
        parse_budget(budget)
    interval = float(_expect(raw.get("interval_hours", 1.0), (int, float), f"{where}: interval_hours"))
    reference = raw.get("reference_method")
    if reference is not None and reference not in names:
        raise HarnessError(f"{where}: reference_method '{reference}' is not one of the study's methods")
    study = Study(
        name=_study_name(raw.get("name", name), where),
        description=_expect(raw.get("description", ""), str, f"{where}: description"),
        methods=tuple(methods),
        benchmarks=_list(raw, "benchmarks", str, ["nb201/cifar10/pi5-energy"], where),
        traces=traces,
        budgets=budgets,
        gpus=gpus,
        seeds=seeds,
        accounting=_expect(raw.get("accounting", "default"), str, f"{where}: accounting"),
        interval_hours=interval,
        reference_method=reference,
        shared_options=shared,
        report=_report_name(raw.get("report"), where),
        source=source,
        tree_varies=varies,
        suite=_suite_name(raw.get("suite", "v1"), where),
        levels=_levels(raw, budgets, where),
        hindsight=_hindsight(raw, names, where),
    )
    _check_resources(study)
    cells = len(study.cells())
    if cells > MAX_CELLS:
        raise HarnessError(f"{where}: {cells:,} runs; a study has at most {MAX_CELLS:,} (split it)")
    return study


NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,79}")
NAME_RULE = "1-80 letters, digits, '.', '_', '+' or '-', starting with a letter or digit"
MAX_SEEDS = 10_000
MAX_CELLS = 200_000
"""A study's largest grid: about a week of sweeping on 2 cores at 3 s a run; beyond, split the study."""


def _study_name(value: Any, where: str) -> str:
    """A study name that is a safe folder name (results/NAME): no path separators, no '..', not empty."""
    name = _expect(value, str, f"{where}: name")
    if not NAME.fullmatch(name) or ".." in name:
        raise HarnessError(f"{where}: name {name!r} must be {NAME_RULE} (it names the results folder)")
    return name


def _parse_analysis_study(raw: Mapping[str, Any], name: str, source: str) -> Study:
    """A study with `analysis = NAME`: the analysis, its options and the axes it varies over (benchmarks, traces,
    seeds); the keys of run studies (methods, budgets, ...) are refused."""
    from harness.studies.analysis import AXES, resolve

    where = f"study {name}"
    misplaced = [k for k in _RUN_KEYS if k in raw]
    if misplaced:
        raise HarnessError(f"{where}: an analysis study has no {', '.join(misplaced)} (those are for search runs)")
    analysis = _expect(raw["analysis"], str, f"{where}: analysis")
    cls, options = resolve(analysis, _expect(raw.get("analysis_options", {}), dict, f"{where}: analysis_options"))
    given = {"benchmark": "benchmarks" in raw, "trace": "traces" in raw or "trace_draws" in raw, "seed": "seeds" in raw}
    for axis in AXES:
        if given[axis] and axis not in cls.axes:
            raise HarnessError(f"{where}: analysis '{analysis}' does not vary over {axis}s; remove them")
        if not given[axis] and axis in cls.axes and axis != "seed":
            raise HarnessError(f"{where}: analysis '{analysis}' needs {axis}s")
    study = Study(
        name=_expect(raw.get("name", name), str, f"{where}: name"),
        description=_expect(raw.get("description", ""), str, f"{where}: description"),
        methods=(),
        benchmarks=_list(raw, "benchmarks", str, [], where) if given["benchmark"] else (),
        traces=_traces(raw, where) if given["trace"] else (),
        budgets=(),
        gpus=(),
        seeds=_seeds(raw, where) if "seed" in cls.axes else (),
        report=_report_name(raw.get("report"), where),
        source=source,
        analysis=analysis,
        analysis_options={k: options[k] for k in sorted(options)},
    )
    from harness.benchmarks import benchmark_ids
    from harness.carbon.traces import load_trace

    for bench in study.benchmarks:
        if bench not in benchmark_ids():
            raise HarnessError(f"{where}: unknown benchmark '{bench}' (see `harness benchmarks list`)")
    for trace in study.traces:
        load_trace(trace)
    return study


def _traces(raw: Mapping[str, Any], where: str) -> tuple[str, ...]:
    """The study's traces and drawn windows, in order, without repeats."""
    traces = list(_list(raw, "traces", str, [], where)) if "traces" in raw else []
    for i, draw in enumerate(_expect(raw.get("trace_draws", []), list, f"{where}: trace_draws")):
        _expect(draw, dict, f"{where}: trace_draws[{i}]")
        keys = {"zone", "year", "count", "hours"}
        if not keys <= set(draw) or set(draw) - keys - {"seed"}:
            raise HarnessError(
                f"{where}: trace_draws[{i}] needs zone, year, count and hours (and may have seed); got {sorted(draw)}"
            )
        _expect(draw["zone"], str, f"{where}: trace_draws[{i}].zone")
        for key, low, high in (("year", 1900, 2200), ("count", 1, 10_000), ("hours", 1, 8_760), ("seed", 0, 2**63)):
            value = _expect(draw.get(key, 0), int, f"{where}: trace_draws[{i}].{key}")
            if not low <= value <= high:
                raise HarnessError(f"{where}: trace_draws[{i}].{key} must be in [{low}, {high}] (got {value})")
        traces += TraceDraw(**draw).windows()
    if not traces:
        raise HarnessError(f"{where}: give traces or trace_draws")
    return tuple(dict.fromkeys(traces))


def _seeds(raw: Mapping[str, Any], where: str) -> tuple[int, ...]:
    """`seeds = N` (0..N-1) or an explicit list of distinct non-negative integers (default 10)."""
    seeds_raw = raw.get("seeds", 10)
    if isinstance(seeds_raw, int) and not isinstance(seeds_raw, bool):
        if not 1 <= seeds_raw <= MAX_SEEDS:
            raise HarnessError(f"{where}: seeds must be in [1, {MAX_SEEDS:,}] (got {seeds_raw})")
        seeds = tuple(range(seeds_raw))
    else:
        seeds = _list(raw, "seeds", int, [], where)
        if len(seeds) > MAX_SEEDS:
            raise HarnessError(f"{where}: at most {MAX_SEEDS:,} seeds (got {len(seeds):,})")
        if any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
            raise HarnessError(f"{where}: seeds must be distinct non-negative integers")
    return seeds


def _report_name(value: Any, where: str) -> str | None:
    from harness.studies import REPORTS

    if value is not None:
        REPORTS.entry(_expect(value, str, f"{where}: report"))
    return value


def _options_class(method: str) -> type:
    from harness.methods import method_class

    return method_class(method).Options


def _check_resources(study: Study) -> None:
    """Benchmarks, traces and the accounting profile exist; one cell's RunSpec validates."""
    from harness.benchmarks import benchmark_ids
    from harness.carbon.traces import load_trace
    from harness.sim.accounting import get_profile

    known = benchmark_ids()
    for bench in study.benchmarks:
        if bench not in known:
            raise HarnessError(f"study {study.name}: unknown benchmark '{bench}' (see `harness benchmarks list`)")
    signals: dict[str, str] = {}
    for trace in study.traces:
        signals.setdefault(load_trace(trace).signal.label, trace)
    if len(signals) > 1:
        mixed = "; ".join(f"{trace}: {label}" for label, trace in signals.items())
        raise HarnessError(
            f"study {study.name} mixes carbon signal types ({mixed}); a board compares runs under one kind of signal"
        )
    get_profile(study.accounting)
    study.cells()[0]  # RunSpec checks interval, GPUs, seeds


def studies_dir() -> Path:
    """The shipped studies: `leaderboards/studies/*.toml` (package data of the `leaderboards` package)."""
    from importlib import resources

    return Path(str(resources.files("leaderboards").joinpath("studies")))


STUDIES: Registry[Path] = Registry("study", "study list", group="cenas_bench.studies")
"""Shipped studies: name -> TOML path (plugins: entry-point group `cenas_bench.studies`, target a Path)."""
for _path in sorted(studies_dir().glob("*.toml")):
    try:
        _description = str(tomllib.loads(_path.read_text(encoding="utf-8")).get("description", ""))
    except (OSError, tomllib.TOMLDecodeError) as _exc:
        _description = f"unreadable ({_exc})"
    STUDIES.add(_path.stem, _description, value=_path)


def study_path(name_or_path: str) -> Path:
    """A shipped study by name (`leaderboards/studies/NAME.toml`) or a path to a TOML file."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        if not candidate.is_file():
            raise HarnessError(f"no study file at {candidate}")
        return candidate
    return Path(STUDIES.get(name_or_path))


def load_study_spec(name_or_path: str) -> Study:
    """Read and validate a study (see the module docstring for the format)."""
    path = study_path(name_or_path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise HarnessError(f"study file {path} is not valid TOML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HarnessError(f"cannot read study file {path} ({exc})") from None
    return parse_study(raw, path.stem, str(path))


def shipped_studies() -> list[str]:
    return sorted(STUDIES)
