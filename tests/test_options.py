"""Typed method options: declarations, parsing of command-line text and typed values, registry entries, records."""

from __future__ import annotations

import dataclasses
import json
from typing import Literal

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.config import RunSpec, parse_budget
from harness.errors import HarnessError
from harness.methods import method_class, registry, resolve_options
from harness.options import flatten, group, option, option_specs, options_dict, parse_options
from harness.runner import execute


@dataclasses.dataclass(frozen=True)
class Inner:
    depth: int = option(3, "depth", ge=0, le=10)
    mode: Literal["a", "b"] = option("a", "mode")


@dataclasses.dataclass(frozen=True)
class Outer:
    rate: float = option(0.5, "rate", gt=0)
    size: int | None = option(None, "size", ge=1)
    flag: bool = option(False, "flag")
    gamma: Literal["scale", "auto"] | float = option("scale", "gamma", gt=0)
    inner: Inner = group(Inner, "inner group")


def test_command_line_text_and_typed_values_parse_to_the_same_options() -> None:
    text = {"rate": "0.25", "size": "7", "flag": "yes", "gamma": "0.1", "inner.depth": "4", "inner.mode": "b"}
    typed = {"rate": 0.25, "size": 7, "flag": True, "gamma": 0.1, "inner": {"depth": 4, "mode": "b"}}
    assert parse_options(Outer, text) == parse_options(Outer, typed) == Outer(0.25, 7, True, 0.1, Inner(4, "b"))
    assert parse_options(Outer, {"size": "null", "gamma": "auto"}) == Outer(size=None, gamma="auto")
    assert parse_options(Outer, {}) == Outer()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"inner.depth": 11}, "must be <= 10"),
        ({"inner.depth": True}, "expected an integer"),
        ({"rate": 0}, "must be > 0"),
        ({"rate": "inf"}, "expected a finite number"),
        ({"flag": 1.5}, "expected true or false"),
        ({"gamma": "big"}, "expected 'scale' | 'auto' | float"),
        ({"inner.mode": "c"}, "expected one of 'a', 'b'"),
        ({"depth": 2}, "unknown option 'depth' for m; did you mean inner.depth?"),
        ({"inner": {"dept": 2}}, "did you mean inner.depth"),
    ],
)
def test_bad_values_are_one_clear_error(values, message: str) -> None:
    with pytest.raises(HarnessError, match=message.replace("|", r"\|").replace("?", r"\?")):
        parse_options(Outer, values, "m")


def test_specs_list_every_leaf_with_its_dotted_key() -> None:
    specs = {s.key: s for s in option_specs(Outer)}
    assert list(specs) == ["rate", "size", "flag", "gamma", "inner.depth", "inner.mode"]
    assert specs["inner.depth"].bounds_text() == ">= 0, <= 10" and specs["size"].type_text == "int | null"


@pytest.mark.parametrize("name", sorted(registry()))
def test_every_method_declares_valid_defaults_and_its_entry_parses(name: str) -> None:
    cls = method_class(name)
    specs = option_specs(cls.Options)
    assert all(s.help for s in specs), f"{name}: every option needs a meaning"
    defaults = flatten(options_dict(cls.Options()))
    assert parse_options(cls.Options, defaults, name) == cls.Options()  # defaults satisfy their own bounds
    resolved = flatten(options_dict(resolve_options(name)))
    assert {k: resolved[k] for k, _ in registry()[name].defaults} == dict(registry()[name].defaults)


def test_records_from_text_and_typed_options_are_identical() -> None:
    def run(options: dict) -> str:
        spec = RunSpec(
            "nsga2", "nb201/cifar10/pi5-energy", "hotcarbon-1", parse_budget("3h"), gpus=2, method_options=options
        )
        return execute(spec).to_json()

    text, typed = run({"pop_size": "6"}), run({"pop_size": 6})
    assert text == typed
    record = json.loads(typed)
    assert record["spec"]["method_options"] == {"pop_size": 6}
    assert record["provenance"]["method"]["options"] == {"pop_size": 6}


def test_methods_show_lists_options_defaults_and_entry_overrides() -> None:
    result = CliRunner().invoke(app, ["methods", "show", "cenas"])
    assert result.exit_code == 0, result.output
    for key in ("tree.kernel", "tree.svm_max_samples", "qnehvi.q", "rl.mode", "heuristic.window_hours"):
        assert key in result.output
    assert '"rbf" *' in result.output and "set by this registry entry" in result.output
    scheduled = CliRunner().invoke(app, ["methods", "show", "random-search-threshold"])
    assert scheduled.exit_code == 0 and '"threshold" *' in scheduled.output and "schedule.quantile" in scheduled.output


def test_each_lamoo_method_shows_only_the_options_it_reads() -> None:
    """The LaMOO baselines share CE-NAS's search (`cenas.search.LaMOOSearch`) but none of its allocation: vanilla
    LaMOO lists its tree, sampler and schedule, one-shot LaMOO its supernet and claims, and neither a policy, a
    forecaster for a policy, an RL agent or a ready queue."""
    from harness.methods import method_class
    from harness.options import option_specs

    keys = {name: {o.key for o in option_specs(method_class(name).Options)} for name in ("cenas", "vanilla-lamoo")}
    keys["oneshot-lamoo"] = {o.key for o in option_specs(method_class("oneshot-lamoo").Options)}
    allocation = {"policy", "forecaster", "fixed_train", "queue_capacity", "dominance_scope", "rl.mode"}
    assert allocation <= keys["cenas"]
    assert not allocation & (keys["vanilla-lamoo"] | keys["oneshot-lamoo"])
    assert not any(k.startswith(("heuristic.", "rl.", "supernet.")) for k in keys["vanilla-lamoo"])
    assert {"tree.kernel", "sampler", "n_init", "schedule.policy"} <= keys["vanilla-lamoo"]
    assert {"supernet.seconds", "oneshot_quota", "claim_gpus"} <= keys["oneshot-lamoo"]
    shown = CliRunner().invoke(app, ["methods", "show", "vanilla-lamoo"]).output
    assert (
        "tree.kernel" in shown and "│ policy " not in shown and "rl.mode" not in shown and "queue_capacity" not in shown
    )
