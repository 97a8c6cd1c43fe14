"""Analysis studies: computations over benchmarks, traces and seeds that are not search runs (HotCarbon §4.2's LaMOO
region check, the carbon forecasters' accuracy), swept and reported like run studies.

A study file with `analysis = "NAME"` (and optional `[analysis_options]`) names an `Analysis` from `ANALYSES`
instead of methods; its cells are the product of the axes the analysis varies over (`Analysis.axes`: benchmarks,
traces, seeds). Each cell is computed by a worker (`run_analysis`) into a small JSON document
(`cenas-bench/analysis/1`: the cell, the project version and the result) stored under the same content address
scheme as run records (sha256 of the cell, the version and the hash of every data file and model it reads), so
analysis sweeps are resumable, executor-independent and byte-identical like run sweeps. `load_analysis(folder)` gives
the results as a frame (one row per cell) for reports and notebooks.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from harness.errors import HarnessError
from harness.options import NoOptions, flatten, options_dict, parse_options
from harness.registry import Registry

if TYPE_CHECKING:
    import pandas as pd

SCHEMA = "cenas-bench/analysis/1"
AXES = ("benchmark", "trace", "seed")


@dataclass(frozen=True)
class AnalysisCell:
    """One cell of an analysis study: the analysis, its typed options (dotted keys) and the cell's axis values
    (None for an axis the analysis does not vary over)."""

    analysis: str
    options: dict[str, Any] = field(default_factory=dict)
    benchmark: str | None = None
    trace: str | None = None
    seed: int | None = None

    @property
    def name(self) -> str:
        return self.analysis

    def label(self) -> str:
        parts = [self.analysis, self.benchmark, self.trace, None if self.seed is None else f"seed {self.seed}"]
        return " | ".join(p for p in parts if p is not None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "analysis": self.analysis,
            "options": self.options,
            "benchmark": self.benchmark,
            "trace": self.trace,
            "seed": self.seed,
        }

    def matches(self, document: Any) -> bool:
        """`document` (a decoded stored result) is this cell's."""
        expected = json.loads(json.dumps(self.to_dict(), sort_keys=True))
        return isinstance(document, dict) and document.get("schema") == SCHEMA and document.get("cell") == expected


class Analysis(ABC):
    """A study computation over cells (template: `compute` one cell; `inputs` names what its result depends on).

    Subclasses set `axes` (which of benchmark, trace, seed their cells vary over) and `Options` (a frozen options
    dataclass, `harness.options`); `compute` must depend only on the cell and the files `inputs` hashes."""

    axes: ClassVar[tuple[str, ...]] = ()
    Options: ClassVar[type] = NoOptions

    def __init__(self, options: Any) -> None:
        self.options = options

    @abstractmethod
    def compute(self, cell: AnalysisCell) -> dict[str, Any]:
        """The cell's result: a JSON-able dict of numbers and short texts (one row of `load_analysis`)."""

    def inputs(self, cell: AnalysisCell) -> dict[str, str]:
        """sha256 (or git blob id) of every data file and model the cell reads: by default the benchmark's and the
        trace's data files, as the verified tables recorded them."""
        from harness.benchmarks import get_benchmark
        from harness.carbon.traces import load_trace, trace_data_files
        from harness.data.manifest import load_manifest
        from harness.data.tables import recorded_hashes

        found = get_benchmark(cell.benchmark).data_hashes() if cell.benchmark else {}
        if cell.trace:
            found |= recorded_hashes([f.name for f in trace_data_files(load_trace(cell.trace), load_manifest())])
        return dict(sorted(found.items()))


ANALYSES: Registry[type[Analysis]] = Registry("analysis", "registries", group="cenas_bench.analyses")
"""Analyses by name (plugins: entry-point group `cenas_bench.analyses`, target `module:Class`; CE-NAS registers
`lamoo-region`, HotCarbon §4.2's check of the LaMOO-selected region, there)."""
ANALYSES.add(
    "forecast-accuracy",
    "MAPE of the transformer forecaster vs persistence on held-out origins (per trace)",
    target="harness.studies.forecast:ForecastAccuracy",
)


def analysis_class(name: str) -> type[Analysis]:
    return ANALYSES.get(name)


def resolve(name: str, options: dict[str, Any] | None) -> tuple[type[Analysis], dict[str, Any]]:
    """The analysis class and its options typed and flattened (every key, defaults filled; one error line)."""
    cls = analysis_class(name)
    return cls, flatten(options_dict(parse_options(cls.Options, options or {}, f"analysis {name}")))


def create(cell: AnalysisCell) -> Analysis:
    cls = analysis_class(cell.analysis)
    return cls(parse_options(cls.Options, cell.options, f"analysis {cell.analysis}"))


def analysis_key(cell: AnalysisCell, version: str) -> str:
    """Content address of an analysis cell: sha256 of the cell, the project version and its inputs' hashes."""
    document = {"cell": cell.to_dict(), "version": version, "inputs": create(cell).inputs(cell)}
    return hashlib.sha256(json.dumps(document, sort_keys=True, allow_nan=False).encode()).hexdigest()


def run_analysis(cell: AnalysisCell) -> str:
    """Worker task: compute one cell and return its stored document as JSON text."""
    from harness import __version__

    result = create(cell).compute(cell)
    document = {"schema": SCHEMA, "cell": cell.to_dict(), "version": __version__, "result": result}
    return json.dumps(document, indent=1, sort_keys=True, allow_nan=False) + "\n"


RESULTS_FILE = "results.csv"


def load_analysis(folder: str | Path) -> pd.DataFrame:
    """The results of an analysis study folder, one row per cell in the study's order: the cell's axes (`benchmark`,
    `trace`, `seed` where the analysis varies over them) and the result's fields. Read from the stored documents
    (`records/`) when present, else from the committed `results.csv`."""
    import pandas as pd

    folder = Path(folder)
    try:
        index = json.loads((folder / "study.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HarnessError(f"{folder} is not a study folder ({exc}); run `harness sweep` first") from None
    if (folder / "records").is_dir():
        rows = []
        for cell in index["cells"]:
            path = folder / "records" / f"{cell['key']}.json"
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                message = f"{folder}: cell {cell['label']} has no readable result ({exc}); rerun the sweep"
                raise HarnessError(message) from None
            axes = {k: document["cell"][k] for k in AXES if document["cell"][k] is not None}
            rows.append({"key": cell["key"], **axes, **document["result"]})
        return pd.DataFrame(rows)
    if not (folder / RESULTS_FILE).is_file():
        raise HarnessError(f"{folder}: no records/ and no {RESULTS_FILE}; run `harness sweep` first")
    return pd.read_csv(folder / RESULTS_FILE)


def write_results(frame: pd.DataFrame, out: Path) -> Path:
    """The committed form of an analysis study: its results frame as CSV (numbers written exactly)."""
    from harness.io import atomic_write_text

    path = out / RESULTS_FILE
    atomic_write_text(path, frame.to_csv(index=False, float_format="%.17g", lineterminator="\n"))
    return path
