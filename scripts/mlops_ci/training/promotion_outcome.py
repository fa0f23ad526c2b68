"""What a promotion did: the Outcome of `mlops-ci promote`, told as one line and as the Markdown of
the job summary and the merged PR's comment."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from mlops_ci.core.text import md_escape
from mlops_ci.registry.tags import DEFAULT_ALIAS, FAILED, PASSED
from mlops_ci.training.gates import SKIPPED, GateResult

PROMOTED, ALREADY, SUPERSEDED, REFUSED, NOTHING = "promoted", "already", "superseded", "refused", "nothing"


@dataclass
class Outcome:  # pylint: disable=too-many-instance-attributes  # what the summary and outputs show
    """What `promote` did, for the printed line, the outputs and the PR comment."""

    status: str
    model: str = ""
    version: str = ""
    alias: str = DEFAULT_ALIAS
    champion: str | None = None      # the alias's version afterwards
    previous: str | None = None      # the alias's version before
    pr: int | None = None
    why: str = ""
    results: list[GateResult] = field(default_factory=list)

    @property
    def promoted(self) -> bool:
        """True when the version is the champion now."""
        return self.status in (PROMOTED, ALREADY)

    def line(self) -> str:
        """One line saying what happened."""
        name = f"{self.model} version {self.version}" + (f" (PR #{self.pr})" if self.pr else "")
        where = f"{self.model}@{self.alias}"
        if self.status == PROMOTED:
            was = f"version {self.previous}" if self.previous else "none"
            counts = {status: sum(1 for result in self.results if result.status == status)
                      for status in (PASSED, SKIPPED)}
            gates = ", ".join(f"{count} {status}" for status, count in counts.items() if count)
            return f"{name} is now {where} (was {was}); gates: {gates or 'none configured'}"
        if self.status == ALREADY:
            return f"{name} is already {where}: nothing changed"
        if self.status == SUPERSEDED:
            return (f"{name} passed its gates, but version {self.champion} (merged later) stays {where}; "
                    "both are recorded")
        if self.status == REFUSED:
            kept = f"version {self.champion}" if self.champion else "unset"
            return f"{name} refused: {self.why}; {where} is still {kept}"
        return f"{self.why}: nothing to promote"


_HEADLINES = {PROMOTED: "✅ promoted", ALREADY: "✅ already the champion",
              SUPERSEDED: "⏭️ passed, not promoted",
              REFUSED: "⛔ refused", NOTHING: "💤 nothing to promote"}
_ICONS = {PASSED: "✅ passed", FAILED: "❌ failed", SKIPPED: "➖ skipped"}


def code_span(text: str) -> str:
    """A code span when the text cannot break out of one, else escaped Markdown."""
    return f"`{text}`" if "`" not in text and text.isprintable() else md_escape(text)


def outcome_markdown(outcome: Outcome, tracking_uri: str) -> str:
    """The job summary and the merged PR's comment."""
    lines = [f"### mlops-ci promotion: {_HEADLINES[outcome.status]}", "", md_escape(outcome.line())]
    if outcome.model and outcome.status != NOTHING:
        champion = f"version {outcome.champion}" if outcome.champion else "unset"
        lines += ["", f"**Model:** {code_span(outcome.model)} · **{md_escape(outcome.alias)}:** {champion} · "
                      f"**URI:** {code_span(f'models:/{outcome.model}@{outcome.alias}')}"]
        if tracking_uri.startswith(("http://", "https://")):
            lines[-1] += (f" · [in the registry]({tracking_uri.rstrip('/')}/#/models/{quote(outcome.model)}"
                          f"/versions/{outcome.version})")
    if outcome.results:
        lines += ["", "| gate | result | detail |", "|---|---|---|"]
        lines += [f"| {code_span(result.gate)} | {_ICONS[result.status]} | {md_escape(result.detail)} |"
                  for result in outcome.results]
    return "\n".join(lines) + "\n"
