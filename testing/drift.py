"""Tabular samples for the data-check and drift tests, fast and end to end alike."""

from __future__ import annotations

import numpy as np
import pandas as pd

N = 2000  # rows of each sample


def sample(seed: int, shift: float = 0.0, scale: float = 1.0, shares=(0.5, 0.3, 0.2)) -> pd.DataFrame:
    """A tabular sample: a numeric feature, a categorical one, an id that is not a feature."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"request_id": np.arange(N), "amount": rng.normal(100 + shift, 10 * scale, N),
                         "channel": rng.choice(["web", "app", "shop"], N, p=list(shares))})
