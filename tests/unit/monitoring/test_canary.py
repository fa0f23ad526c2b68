"""`mlops-ci canary`: the step decision as a pure function; start/step/promote/abort on an in-memory
registry (idempotence, and a registry call failing at every write in turn). Against a real MLflow server
and a running `mlops-ci serve`: tests/integration/monitoring/test_canary_registry.py."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace

import pytest

from mlops_ci.monitoring import canary
from mlops_ci.monitoring.canary import ABORT, HOLD, PROMOTE, STEP, Move, next_move, parse_steps
from mlops_ci.registry.tags import CANARY_FRACTION_TAG
from mlops_ci.core.errors import MlopsCiError
from testing.serve import log

MODEL = "digits"
STEPS = (0.05, 0.25, 0.5, 1.0)


# --- pure -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("decision", "fraction", "move"), [
    ("promote", 0.05, Move(STEP, 0.25, "better")),
    ("promote", 0.1, Move(STEP, 0.25, "better")),          # a hand-set fraction joins the schedule
    ("promote", 0.5, Move(STEP, 1.0, "better")),
    ("promote", 1.0, Move(PROMOTE, 1.0, "better")),
    ("hold", 0.25, Move(HOLD, 0.25, "better")),
    ("rollback", 0.5, Move(ABORT, 0.0, "better")),
])
def test_next_move(decision, fraction, move):
    assert next_move(decision, ["better"], STEPS, fraction) == move


def test_parse_steps():
    assert parse_steps("0.05, 0.25,0.5,1") == (0.05, 0.25, 0.5, 1.0)
    for bad in ("", "0.5,0.25", "0,0.5", "0.5,1.5", "a,b", "0.5,0.5"):
        with pytest.raises(MlopsCiError, match="--steps"):
            parse_steps(bad)


# --- an in-memory registry --------------------------------------------------------------------------

class FakeRegistry:
    """The Registry methods canary uses, in memory; the write number `fail_at` raises like MLflow down."""

    def __init__(self, versions: int = 3, champion: str = "1") -> None:
        self.tags: dict[str, str] = {}
        self.aliases: dict[str, str] = {"champion": champion}
        self.version_tags: dict[str, dict[str, str]] = {str(n): {} for n in range(1, versions + 1)}
        self.writes = 0
        self.fail_at: int | None = None
        self.uri = "memory"

    def _write(self) -> None:
        if self.writes == self.fail_at:
            raise MlopsCiError("MLflow failed while writing")
        self.writes += 1

    def model(self, _name):
        return SimpleNamespace(tags=dict(self.tags), aliases=dict(self.aliases))

    def version(self, _name, number):
        return SimpleNamespace(version=number, tags=dict(self.version_tags[number]))

    def alias_version(self, _name, alias):
        return self.aliases.get(alias)

    def versions_tagged(self, _name, tag, value):
        return [SimpleNamespace(version=number, tags=dict(tags))
                for number, tags in self.version_tags.items() if tags.get(tag) == value]

    def set_tags(self, _name, number, tags):
        for key, value in tags.items():
            self._write()
            self.version_tags[number][key] = value

    def set_model_tags(self, _name, tags):
        for key, value in tags.items():
            self._write()
            self.tags[key] = value

    def delete_model_tag(self, _name, key):
        self._write()
        del self.tags[key]

    def set_alias(self, _name, alias, number):
        self._write()
        self.aliases[alias] = number

    def delete_alias(self, _name, alias):
        self._write()
        del self.aliases[alias]

    def routing(self) -> tuple[str | None, str | None]:
        """Which version serves the ids below the canary fraction, and which the others."""
        champion = self.aliases.get("champion")
        running = float(self.tags.get(CANARY_FRACTION_TAG, 0)) > 0 and "challenger" in self.aliases
        return (self.aliases["challenger"] if running else champion), champion

    def snapshot(self) -> tuple:
        """Everything but timestamps."""
        def clean(tags):
            return {key: "*" if key.endswith(("_at", "_by")) else value for key, value in tags.items()}
        return clean(self.tags), dict(self.aliases), {n: clean(t) for n, t in self.version_tags.items()}


def started(fraction: float = 0.05) -> FakeRegistry:
    registry = FakeRegistry()
    canary.start(registry, MODEL, "2", fraction)
    return registry


def test_start_refuses_the_champion_another_canary_and_a_rolled_back_version():
    registry = started()
    assert registry.tags[CANARY_FRACTION_TAG] == "0.05" and registry.aliases["challenger"] == "2"
    assert registry.routing() == ("2", "1")
    with pytest.raises(MlopsCiError, match="is the champion already") as error:
        canary.start(registry, MODEL, "1", 0.05)
    assert error.value.exit_code == 2
    with pytest.raises(MlopsCiError, match="a canary of digits version 2 is running") as error:
        canary.start(registry, MODEL, "3", 0.05)
    assert error.value.exit_code == 1
    canary.abort(registry, MODEL, "bad")
    with pytest.raises(MlopsCiError, match="was rolled back \\(bad\\)") as error:
        canary.start(registry, MODEL, "2", 0.05)
    assert error.value.exit_code == 1


@pytest.mark.parametrize("command", ["start", "promote", "abort"])
def test_every_command_run_twice_changes_nothing_the_second_time(command):
    registry = FakeRegistry() if command == "start" else started()
    commands = {"start": lambda: canary.start(registry, MODEL, "2", 0.05),
                "promote": lambda: canary.promote(registry, MODEL),
                "abort": lambda: canary.abort(registry, MODEL, "worse")}
    commands[command]()
    writes, state = registry.writes, registry.snapshot()
    line = commands[command]()
    assert registry.writes == writes and registry.snapshot() == state
    assert "nothing" in line


def test_promote_leaves_the_promotion_tags_and_ends_the_canary():
    registry = started()
    canary.promote(registry, MODEL)
    assert registry.aliases == {"champion": "2"} and registry.tags == {}
    tags = registry.version_tags["2"]
    assert tags["mlops_ci.validation_status"] == "passed" and tags["mlops_ci.previous_champion"] == "1"
    assert tags["mlops_ci.promoted_at"] and tags["mlops_ci.promoted_by"] and tags["mlops_ci.merged_at"]


def test_abort_tags_the_version_rolled_back_and_leaves_the_champion():
    registry = started()
    canary.abort(registry, MODEL, "latency")
    assert registry.aliases == {"champion": "1"} and registry.tags == {}
    tags = registry.version_tags["2"]
    assert tags["mlops_ci.validation_status"] == "rolled_back"
    assert tags["mlops_ci.rollback_reason"] == "latency"
    assert tags["mlops_ci.rolled_back_to"] == "1"
    assert registry.version_tags["1"] == {}


@pytest.mark.parametrize("command", ["start", "promote", "abort"])
def test_a_failure_at_any_write_leaves_old_or_new_traffic_and_a_rerun_converges(command):
    def fresh() -> FakeRegistry:
        return FakeRegistry() if command == "start" else started()

    def run(registry: FakeRegistry) -> None:
        {"start": lambda: canary.start(registry, MODEL, "2", 0.05),
         "promote": lambda: canary.promote(registry, MODEL),
         "abort": lambda: canary.abort(registry, MODEL, "worse")}[command]()

    clean = fresh()
    before = clean.routing()
    start_writes = clean.writes
    run(clean)
    after, total = clean.routing(), clean.writes - start_writes
    assert total >= 3
    for failing in range(start_writes, start_writes + total):
        registry = fresh()
        registry.fail_at = failing
        with pytest.raises(MlopsCiError, match="MLflow failed"):
            run(registry)
        assert registry.routing() in (before, after), failing
        registry.fail_at = None
        run(registry)
        assert registry.snapshot() == clean.snapshot(), failing


def step_args(tmp_path: Path, control: float, treatment: float) -> argparse.Namespace:
    return argparse.Namespace(model=MODEL, control=log(tmp_path / "c.jsonl", control, "1"),
                              treatment=log(tmp_path / "t.jsonl", treatment, "2"), alpha=0.05)


def test_step_moves_forward_holds_promotes_and_aborts(tmp_path):
    registry = started()
    better = step_args(tmp_path, 0.80, 0.95)
    for fraction in ("0.25", "0.5", "1"):
        move, report = canary.step(registry, better, STEPS)
        assert (move.action, registry.tags[CANARY_FRACTION_TAG]) == (STEP, fraction)
        assert report["compare"]["decision"] == "promote" and report["compare"]["rows"]["control"] == 300
    move, _ = canary.step(registry, better, STEPS)
    assert move.action == PROMOTE and registry.aliases == {"champion": "2"}
    assert "compare said promote" in registry.version_tags["2"]["mlops_ci.validation_reason"]

    registry = started()
    move, _ = canary.step(registry, step_args(tmp_path, 0.90, 0.90), STEPS)
    assert (move.action, registry.tags[CANARY_FRACTION_TAG]) == (HOLD, "0.05")
    move, _ = canary.step(registry, step_args(tmp_path, 0.95, 0.60), STEPS)
    assert move.action == ABORT and registry.aliases == {"champion": "1"} and registry.tags == {}
    assert registry.version_tags["2"]["mlops_ci.rollback_reason"].startswith("compare said rollback: ")
    move, _ = canary.step(registry, step_args(tmp_path, 0.95, 0.60), STEPS)
    assert move.action == HOLD and "no canary" in move.why


def test_step_holds_while_an_arm_has_no_rows_of_its_version(tmp_path):
    registry = started()
    args = step_args(tmp_path, 0.8, 0.95)
    args.treatment = log(tmp_path / "t.jsonl", 0.95, "3")
    move, report = canary.step(registry, args, STEPS)
    assert move.action == HOLD and "treatment: no labelled rows of version 2" in move.why
    assert registry.tags[CANARY_FRACTION_TAG] == "0.05" and report["decision"] == "hold"


# --- a real MLflow server ---------------------------------------------------------------------------

# --- serve following the registry -------------------------------------------------------------------

