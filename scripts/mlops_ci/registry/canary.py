"""The canary state, kept in the registry: `canary` writes it, every `serve` replica reads it.

    NAME@challenger              the canary version
    mlops_ci.canary.version      registered-model tags: the canary version, when it started, and the
    mlops_ci.canary.started_at   share of request ids routed to it; a canary runs while the fraction
    mlops_ci.canary.fraction     tag exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mlops_ci.clients.mlflow import Registry
from mlops_ci.core.errors import MlopsCiError
from mlops_ci.registry.tags import (CANARY_FRACTION_TAG, CANARY_STARTED_AT_TAG, CANARY_VERSION_TAG,
                                    CHALLENGER_ALIAS, DEFAULT_ALIAS)


@dataclass(frozen=True)
class Canary:
    """The canary as the registry has it; `fraction` None: no canary running."""

    model: str
    champion: str | None
    challenger: str | None
    version: str | None
    fraction: float | None
    started_at: str = ""

    @property
    def running(self) -> bool:
        """True while the fraction tag exists."""
        return self.fraction is not None

    @property
    def candidate(self) -> str | None:
        """The canary version, also while a promote or abort is finishing its cleanup."""
        return self.version or (self.challenger if self.running else None)


def parse_fraction(text: str, where: str) -> float:
    """A fraction in [0, 1] from a tag or option."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 1:
        raise MlopsCiError(f"{text!r}: expected a fraction between 0 and 1 (e.g. 0.05)", where=where)
    return value


def read_canary(registry: Registry, model: str, champion_alias: str = DEFAULT_ALIAS,
                challenger_alias: str = CHALLENGER_ALIAS) -> Canary:
    """The canary state of registered model `model`."""
    record = registry.model(model)
    tags, aliases = dict(record.tags or {}), dict(record.aliases or {})
    fraction = tags.get(CANARY_FRACTION_TAG)
    return Canary(model, _str(aliases.get(champion_alias)), _str(aliases.get(challenger_alias)),
                  tags.get(CANARY_VERSION_TAG),
                  None if fraction is None else
                  parse_fraction(fraction, f"{model} tag {CANARY_FRACTION_TAG}"),
                  tags.get(CANARY_STARTED_AT_TAG, ""))


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
