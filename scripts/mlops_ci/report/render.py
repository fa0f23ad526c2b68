"""The Markdown of `mlops-ci report`: blocks rendered from the report's records, fitted to size.

Each section (report.markdown, report.plots) is a block with levels, richest first; fitting steps
blocks down one drop stage at a time (STAGES, least important first) until the comment fits, so a
table is left out whole or kept whole, never cut in half. Pure functions: records in, text out.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mlops_ci import __version__
from mlops_ci.core.markers import BODY_LIMIT, COMMENT_LIMIT
from mlops_ci.report.markdown import (code, data_block, experiments_block, metrics_block, params_block,
                                      quality_block, size, verdict_block, warnings_block)
from mlops_ci.report.plots import class_table_levels, confusion_levels, curve_levels, images_block
from mlops_ci.report.records import Report

# Drop stages, least important first: stage N leaves out what STAGES[N - 1] names.
STAGES = ("plot point detail", "charts (final values kept)", "per-class tables", "data file lists",
          "experiment table", "params", "unchanged metrics")
POINTS, CHARTS, PER_CLASS, FILE_LISTS, EXPERIMENTS, PARAMS, UNCHANGED = range(1, len(STAGES) + 1)


# --- assembling and fitting ---------------------------------------------------------------------

@dataclass(frozen=True)
class Block:
    """A section's renderings, richest first; `stages[i]` is the drop stage that replaces
    levels[i] with levels[i + 1]."""

    levels: tuple[str, ...]
    stages: tuple[int, ...] = ()

    def at(self, stage: int) -> str:
        """The rendering used at drop stage `stage` (0: nothing dropped)."""
        return self.levels[sum(1 for step in self.stages if step <= stage)]


def plot_blocks(report: Report) -> list[Block]:
    """One block per drawable plot, then the images and the plots not drawn."""
    found: list[Block] = []
    images, others = [], []
    for plot in report.plots:
        if plot.kind == "curve":
            found.append(Block(curve_levels(report, plot), (POINTS, CHARTS)))
        elif plot.kind == "confusion":
            found.append(Block(confusion_levels(report, plot), (PER_CLASS,)))
        elif plot.kind == "table":
            found.append(Block(class_table_levels(report, plot), (PER_CLASS,)))
        elif plot.kind == "image":
            images.append(plot.name)
        else:
            others.append(plot.name)
    tail = images_block(report, images)
    if others:
        tail += f"\nNot drawn here: {', '.join(code(name) for name in others)}.\n"
    if tail:
        found.append(Block((tail,)))
    if found:
        found.insert(0, Block(("### Plots\n",)))
    return found


def _url(url: str) -> str:
    """A URL as a Markdown link target: spaces, parentheses and angle brackets percent-encoded."""
    for char, encoded in ((" ", "%20"), ("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E")):
        url = url.replace(char, encoded)
    return url


def links_block(report: Report) -> str:
    """Links to MLflow, the workflow run; the footer with the commit and the base."""
    names = {"mlflow_run": "MLflow run", "model_version": "model version",
             "champion_version": "champion", "workflow_run": "workflow run", "artifacts": "artifacts"}
    links = [f"[{label}]({_url(str(report.links[key]))})" for key, label in names.items()
             if report.links.get(key)]
    parts = [f"🔗 {' · '.join(links)}", ""] if links else []
    base = f"{report.base}" + (f" ({report.base_commit})" if report.base_commit else "")
    parts.append(f"<sub>mlops-ci {__version__} · commit {report.commit or 'unknown'} · base "
                 f"{html.escape(base)}</sub>")
    return "\n".join(parts) + "\n"


def blocks(report: Report) -> tuple[list[Block], list[Block]]:
    """(the blocks before the truncation note, the blocks after it), in document order."""
    head = [Block((verdict_block(report),)), Block((warnings_block(report.warnings),)),
            Block((metrics_block(report), metrics_block(report, changed_only=True)), (UNCHANGED,)),
            Block((params_block(report), params_block(report, full=False)), (PARAMS,)),
            Block((quality_block(report),)),
            Block((experiments_block(report), experiments_block(report, full=False)), (EXPERIMENTS,)),
            Block((data_block(report), data_block(report, with_files=False)), (FILE_LISTS,)),
            *plot_blocks(report)]
    return head, [Block((links_block(report),))]


def truncation_note(dropped: Sequence[str]) -> str:
    """What fitting left out."""
    return (f"> ✂️ **Shortened** to stay under GitHub's {COMMENT_LIMIT:,}-character comment limit: "
            f"left out {', '.join(dropped)}. The JSON report and the workflow artifacts have everything.\n")


def _join(parts: Sequence[str]) -> str:
    return "\n".join(part for part in parts if part)


def fit(head: Sequence[Block], tail: Sequence[Block], budget: int,
        last_resort: Callable[[int], str] | None = None, resort_index: int = 2) -> tuple[str, list[str]]:
    """The fullest document within `budget` (see size()), and the drop stages it needed.

    Stages apply in order; whole blocks change level, so no table is ever cut. A stage that changes
    no block (no experiments, say) is skipped and not named in the note. When even the last stage is
    too long, `last_resort(rows)` renders head[resort_index] with fewer rows (binary search)."""
    end = _join([block.at(0) for block in tail])
    dropped: list[str] = []
    text = ""
    for stage in range(len(STAGES) + 1):
        if stage and all(block.at(stage) == block.at(stage - 1) for block in head):
            continue
        if stage:
            dropped.append(STAGES[stage - 1])
        note = truncation_note(dropped) if dropped else ""
        text = _join([*(block.at(stage) for block in head), note, end])
        if size(text) <= budget:
            return text, dropped
    dropped.append("metric rows")
    if last_resort is None:
        return text, dropped
    parts = [block.at(len(STAGES)) for block in head]

    def document(rows: int) -> str:
        parts[resort_index] = last_resort(rows)
        return _join([*parts, truncation_note(dropped), end])

    return _most_rows(document, budget) or document(0), dropped


def _most_rows(document: Callable[[int], str], budget: int) -> str | None:
    """document(rows) for the most rows that fit the budget (binary search); None if none does."""
    low, high, best = 0, 1 << 20, None
    while low <= high:
        middle = (low + high) // 2
        candidate = document(middle)
        if size(candidate) <= budget:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return best


def render(report: Report) -> tuple[str, list[str]]:
    """The comment Markdown within the configured budget, and what was left out to fit."""
    head, tail = blocks(report)
    budget = min(report.config.max_chars, BODY_LIMIT)
    return fit(head, tail, budget,
               lambda rows: metrics_block(report, changed_only=True, limit=rows), resort_index=2)
