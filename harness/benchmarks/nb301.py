"""NAS-Bench-301 (DARTS space, CIFAR-10) through YAHPO Gym's ONNX surrogate, run with onnxruntime directly.

- Space: DARTS genotypes (normal + reduction cell, `harness.spaces.darts`), ~1.08e18 of them, one int64 index each;
  uniform sampling of the index is uniform over the config space's genotypes (isomorphic cells are not merged).
- True objectives: (surrogate validation accuracy % after 98 epochs, -cost) where cost is either the parameter count
  of NAS-Bench-301's evaluation network (32 channels, 8 cells), computed exactly from the genotype, or the
  surrogate's 98-epoch training time.
- Training cost: the surrogate's runtime at 98 epochs (s), charged through the simulator's power model.
- One-shot estimate: NB301 has no supernet table; as EC-NAS, the cheap proxy is early stopping: the surrogate's
  validation accuracy after `PROXY_EPOCHS` epochs at its runtime; the cost objective is a lookup.
- HV_max and reference point: the space cannot be enumerated, so both come from a committed reference front
  (`harness/benchmarks/reference/*.json`, made by `harness benchmarks reference ID`); HV_max is a bound, not the
  optimum, and a run may exceed it.

Every input file is read through its sha256 pin before it is parsed; the model is loaded from the verified bytes.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from harness.benchmarks.base import Benchmark, IndexArray, Objective, Proxy, SearchSpace, register
from harness.data.fetch import VerifiedFile, read_verified
from harness.errors import DataIntegrityError, HarnessError
from harness.spaces import darts

MODEL = "nb301-yahpo-new-model"
CONFIG_SPACE = "nb301-yahpo-config-space"
ENCODING = "nb301-yahpo-encoding"
PREFIX = "NetworkSelectorDatasetInfo_COLON_darts_COLON_"
EPOCHS = 98  # the config space's largest epoch: full training
PROXY_EPOCHS = 3
COLUMNS: tuple[str, ...] = (
    *(f"edge_{cell}_{k}" for cell in darts.CELLS for k in range(darts.N_EDGES)),
    *(f"inputs_node_{cell}_{n}" for cell in darts.CELLS for n in darts.CHOSEN),
)
"""The model's `x_cat` column order (yahpo-gym 1.0.2's nb301 configuration; SOURCES.md N1)."""
REFERENCE_SCHEMA = "cenas-bench/reference-front/1"


def _pair_label(pair: tuple[int, int]) -> str:
    return f"{pair[0]}_{pair[1]}"


class Surrogate:
    """The YAHPO nb301 model (`new_model.onnx`) with its encoding: `predict(idx, epoch)` -> (n, 2) = (validation
    accuracy %, runtime s), float64, memoised per (index, epoch). One intra-op thread: the same bytes in any process.

    Throughput on this 2-core machine: about 5,500 predictions per second (the model takes a batch of one).
    """

    def __init__(self, reader: Callable[[str], VerifiedFile] = read_verified) -> None:
        files = {name: reader(name) for name in (MODEL, CONFIG_SPACE, ENCODING)}
        self.digests = {name: f.digests.pin_value(f.entry) for name, f in files.items()}
        try:
            config, encoding = json.loads(files[CONFIG_SPACE].text()), json.loads(files[ENCODING].text())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataIntegrityError(f"nb301 config space or encoding is not JSON: {exc}") from None
        self._op_codes, self._pair_codes = _codes(config, encoding)
        self._session = _session(files[MODEL].data)
        self._cache: dict[tuple[int, int], tuple[float, float]] = {}

    def x_cat(self, index: npt.ArrayLike) -> np.ndarray:
        """Model input of genotype indices (n,) -> (n, 34) int32 in `COLUMNS` order; inactive edges are 0 (`#na#`)."""
        idx = np.atleast_1d(np.asarray(index, dtype=np.int64))
        out = np.zeros((len(idx), len(COLUMNS)), dtype=np.int32)
        rows = np.arange(len(idx))[:, None]
        for c, code in enumerate(darts.split_index(idx)):
            pairs, ops = darts.cell_parts(code)
            edges = darts.edge_numbers(pairs)
            out[rows, c * darts.N_EDGES + edges] = self._op_codes[c][edges, ops]
            first = 2 * darts.N_EDGES + c * len(darts.CHOSEN)
            for k in range(len(darts.CHOSEN)):
                out[:, first + k] = self._pair_codes[c][k][pairs[:, k]]
        return out

    def predict(self, index: npt.ArrayLike, epoch: int) -> np.ndarray:
        """(validation accuracy %, runtime s) after `epoch` epochs (1..98) of each genotype, shape (n, 2)."""
        idx = np.atleast_1d(np.asarray(index, dtype=np.int64))
        missing = sorted({int(i) for i in idx if (int(i), epoch) not in self._cache})
        if missing:
            x = self.x_cat(missing)
            cont = np.array([[epoch]], dtype=np.float32)
            for i, row in zip(missing, x, strict=True):
                acc, runtime = self._session.run(None, {"x_cat": row[None, :], "x_cont": cont})[0][0]
                self._cache[(i, epoch)] = (float(acc), float(runtime))
        return np.array([self._cache[(int(i), epoch)] for i in idx], dtype=np.float64).reshape(len(idx), 2)


def _codes(config: dict[str, Any], encoding: dict[str, Any]) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    """Code tables from encoding.json, after checking that the config space is the DARTS space `darts` describes:
    op codes per cell (14 edges, 7 ops) and pair codes per cell and chosen node (in `darts.PAIRS` order)."""

    def fail(problem: str) -> DataIntegrityError:
        return DataIntegrityError(f"nb301 config space does not match the DARTS space: {problem}")

    params = {h["name"].removeprefix(PREFIX): h for h in config.get("hyperparameters", [])}
    if sorted(params) != sorted([*COLUMNS, "epoch"]):
        raise fail("unexpected hyperparameter names")
    epoch = params["epoch"]
    if (epoch.get("lower"), epoch.get("upper")) != (1, EPOCHS):
        raise fail(f"epoch range {epoch.get('lower')}..{epoch.get('upper')}, expected 1..{EPOCHS}")
    active = {
        (c["child"].removeprefix(PREFIX), c["parent"].removeprefix(PREFIX)): set(c["values"])
        for c in config.get("conditions", [])
    }
    op_codes: list[np.ndarray] = []
    pair_codes: list[list[np.ndarray]] = []
    for cell in darts.CELLS:
        table = np.zeros((darts.N_EDGES, len(darts.OPS)), dtype=np.int32)
        for k in range(darts.N_EDGES):
            name = f"edge_{cell}_{k}"
            if tuple(params[name]["choices"]) != darts.OPS:
                raise fail(f"{name} choices {params[name]['choices']}")
            table[k] = [encoding[PREFIX + name][op] for op in darts.OPS]
        op_codes.append(table)
        codes = []
        for node in darts.CHOSEN:
            name = f"inputs_node_{cell}_{node}"
            labels = [_pair_label(p) for p in darts.PAIRS[node]]
            if params[name]["choices"] != labels:
                raise fail(f"{name} choices {params[name]['choices']}")
            for source in range(node):  # the edge numbering: node n's edge from j is active iff j is in the pair
                expected = {lab for lab, p in zip(labels, darts.PAIRS[node], strict=True) if source in p}
                if active.get((f"edge_{cell}_{darts.EDGE_OFFSET[node] + source}", name)) != expected:
                    raise fail(
                        f"edge_{cell}_{darts.EDGE_OFFSET[node] + source} is not node {node}'s edge from {source}"
                    )
            codes.append(np.array([encoding[PREFIX + name][lab] for lab in labels], dtype=np.int32))
        pair_codes.append(codes)
    return op_codes, pair_codes


def _session(model: bytes) -> Any:
    """An onnxruntime session from verified bytes, with the v1 model's signature checked (wrong model: one error)."""
    from harness.inference import single_thread_session

    session = single_thread_session(model, MODEL)
    inputs = {i.name: (i.type, i.shape) for i in session.get_inputs()}
    outputs = [o.shape for o in session.get_outputs()]
    expected = {"x_cat": ("tensor(int32)", [1, len(COLUMNS)]), "x_cont": ("tensor(float)", [1, 1])}
    if inputs != expected or outputs != [[1, 2]]:
        raise DataIntegrityError(f"{MODEL} has inputs {inputs} and outputs {outputs}; expected {expected} -> [1, 2]")
    return session


@functools.cache
def surrogate() -> Surrogate:
    """The process's surrogate (loaded, verified and checked once)."""
    return Surrogate()


class NB301Space(SearchSpace):
    """DARTS genotypes; box encoding of 22 binned coordinates (per cell: 8 ops, 3 input pairs)."""

    dim = darts.DIM
    n_archs = darts.N_ARCHS

    def decode(self, x: npt.ArrayLike) -> IndexArray:
        return darts.decode_continuous(x)

    def encode(self, index: npt.ArrayLike) -> np.ndarray:
        return darts.encode_continuous(index)

    def arch_id(self, index: int) -> str:
        return darts.format_genotype(int(index))

    def neighbours(self, index: int) -> IndexArray:
        """Genotypes one op or one input pair away from `index` (for local search), shape (128,)."""
        return darts.neighbours(index)

    def index_of(self, arch_id: str) -> int:
        try:
            return darts.parse_genotype(arch_id)
        except darts.GenotypeError as exc:
            raise HarnessError(f"not a DARTS genotype of NAS-Bench-301's space: {exc}") from None


@dataclass(frozen=True)
class NB301Spec:
    """A benchmark as data: which cost objective, labelled how."""

    id: str
    description: str
    cost: Literal["params", "train-time"]
    cost_label: str
    cost_unit: str


class NB301Benchmark(Benchmark):
    enumerable = False

    def __init__(self, spec: NB301Spec) -> None:
        self.spec = spec
        self.id = spec.id
        self.description = spec.description
        self.space = NB301Space()
        self.surrogate = surrogate()
        self.objectives_meta = (
            Objective(f"CIFAR-10 validation accuracy ({EPOCHS} epochs, NB301 surrogate)", "%", True),
            Objective(spec.cost_label, spec.cost_unit, False),
        )

    @property
    def proxy(self) -> Proxy:
        return Proxy(
            "early-stopping",
            f"the YAHPO surrogate's validation accuracy after {PROXY_EPOCHS} epochs, at its {PROXY_EPOCHS}-epoch "
            "runtime",
            stops_at=f"{PROXY_EPOCHS} epochs",
        )

    @property
    def data_files(self) -> tuple[str, ...]:
        return (MODEL, CONFIG_SPACE, ENCODING)

    def data_hashes(self) -> dict[str, str]:
        return dict(sorted(self.surrogate.digests.items()))

    @property
    def largest_cost(self) -> float | None:
        """The largest cost over the whole space where it is known exactly (parameters: every op a 5x5 separable
        convolution), else None."""
        if self.spec.cost != "params":
            return None
        widest = darts.cell_code([[0, 0, 0]], [[darts.OPS.index("sep_conv_5x5")] * darts.N_OPS_PER_CELL])[0]
        return float(darts.count_params([widest * darts.N_CELL + widest])[0]) / 1e6

    def cost(self, idx: IndexArray) -> np.ndarray:
        """The cost objective (positive, in `cost_unit`) of valid indices, shape (n,)."""
        if self.spec.cost == "params":
            return darts.count_params(idx) / 1e6
        return self.surrogate.predict(idx, EPOCHS)[:, 1] / 3600.0

    def _lookup_objectives(self, idx: IndexArray, oneshot: bool) -> np.ndarray:
        acc = self.surrogate.predict(idx, PROXY_EPOCHS if oneshot else EPOCHS)[:, 0]
        return np.column_stack([acc, -self.cost(idx)])

    def _lookup_seconds(self, idx: IndexArray, oneshot: bool) -> np.ndarray:
        seconds = self.surrogate.predict(idx, PROXY_EPOCHS if oneshot else EPOCHS)[:, 1]
        if np.any(~np.isfinite(seconds) | (seconds <= 0)):
            raise HarnessError(f"{self.id}: the surrogate predicts a non-positive runtime for {idx[seconds <= 0]}")
        return seconds

    @functools.cached_property
    def reference(self) -> dict[str, Any]:
        """The committed reference front document (checked against the model pin and the genotype strings)."""
        document = load_reference(self.id)
        if document.get("model_sha256") != self.surrogate.digests[MODEL]:
            raise DataIntegrityError(f"{self.id}: the reference front was made with another surrogate model")
        for point in document["front"]:
            if self.space.index_of(point["arch"]) != point["index"]:
                raise DataIntegrityError(f"{self.id}: reference front arch {point['arch']} has the wrong index")
        return document

    def _reference_point(self) -> np.ndarray:
        return np.asarray(self.reference["ref_point"], dtype=np.float64)

    def _front(self) -> IndexArray:
        front = self.reference["front"]
        idx = np.array([p["index"] for p in front], dtype=np.int64)
        stored = np.array([[p["accuracy"], -p["cost"]] for p in front], dtype=np.float64)
        if not np.allclose(self.objectives(idx), stored, rtol=1e-5, atol=0.0):
            raise DataIntegrityError(
                f"{self.id}: the reference front's objectives differ from the surrogate's; "
                f"run `harness benchmarks reference {self.id}` to make it again"
            )
        return idx


def reference_resource(benchmark_id: str) -> str:
    """File name of a benchmark's committed reference front in `harness/benchmarks/reference/`."""
    return benchmark_id.replace("/", "--") + ".json"


def load_reference(benchmark_id: str) -> dict[str, Any]:
    """The committed reference-front document of a surrogate benchmark; one error line if it is missing or bad."""
    name = reference_resource(benchmark_id)
    try:
        text = resources.files("harness.benchmarks").joinpath("reference", name).read_text(encoding="utf-8")
        document = json.loads(text)
    except FileNotFoundError:
        raise HarnessError(
            f"{benchmark_id} has no reference front yet: run `harness benchmarks reference {benchmark_id}`"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataIntegrityError(f"reference front {name} is unreadable: {exc}") from None
    if document.get("schema") != REFERENCE_SCHEMA or document.get("benchmark") != benchmark_id:
        raise DataIntegrityError(f"reference front {name} is not a {REFERENCE_SCHEMA} document for {benchmark_id}")
    return document


SPECS: tuple[NB301Spec, ...] = (
    NB301Spec(
        "nb301/cifar10/params",
        "NAS-Bench-301 (YAHPO surrogate) CIFAR-10 accuracy vs parameters of the evaluation network (exact; ~1e18 "
        "DARTS genotypes; HV against a committed reference front)",
        "params",
        "parameters of the 32-channel, 8-cell DARTS network",
        "M",
    ),
    NB301Spec(
        "nb301/cifar10/train-time",
        "NAS-Bench-301 (YAHPO surrogate) CIFAR-10 accuracy vs the surrogate's 98-epoch training time (~1e18 DARTS "
        "genotypes; HV against a committed reference front)",
        "train-time",
        "training time, 98 epochs (NB301 surrogate)",
        "h",
    ),
)

for _spec in SPECS:
    register(_spec.id, _spec.description, functools.partial(NB301Benchmark, _spec))
