"""Inputs shared by the monitoring commands (`data-check`, `drift`, `compare`).

Tables (CSV, Parquet, JSON Lines), class-per-folder image datasets, and the `--json` output (the
`data_check:` and `drift:` sections of the config file are `mlops_ci.config`'s). numpy, pandas,
scipy and Pillow are the `monitor` extra: they are imported where used, so the CLI starts, and every
other command works, without them.
"""

# pylint: disable=import-outside-toplevel  # the `monitor` extra, see above

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_ci.core.errors import MlopsCiError

if TYPE_CHECKING:
    import pandas as pd

MONITOR_EXTRA = ("numpy", "pandas", "scipy", "PIL")
TABLE_SUFFIXES = (".csv", ".parquet", ".pq", ".jsonl", ".ndjson")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def require_monitor_extra() -> None:
    """Fail with the install hint when the `monitor` extra is missing."""
    for name in MONITOR_EXTRA:
        try:
            importlib.import_module(name)
        except ImportError as error:
            raise MlopsCiError(f"this command needs the monitor extra ({name} is missing): "
                               "pip install 'mlops-ci[monitor]'") from error


# --- tables -----------------------------------------------------------------------------------------

def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV, Parquet or JSON Lines file as a DataFrame; unreadable input is an MlopsCiError."""
    import pandas as pd

    where, suffix = str(path), Path(path).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise MlopsCiError(f"not a table: expected one of {', '.join(TABLE_SUFFIXES)}", where=where)
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_json(path, lines=True)
    except FileNotFoundError as error:
        raise MlopsCiError("no such file", where=where) from error
    except pd.errors.EmptyDataError as error:
        raise MlopsCiError("empty file: no header, no rows", where=where) from error
    # pandas, pyarrow and the JSON parser each raise their own ValueError/OSError subclasses.
    except (ValueError, OSError, UnicodeDecodeError) as error:
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise MlopsCiError(f"cannot read the table: {detail}", where=where) from error


# --- image folders ----------------------------------------------------------------------------------

def dataset_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(class, file) of every file under `root`, sorted; files directly in `root` have class ''.

    Hidden files and folders (.gitkeep, .DS_Store, .dvc caches) are not data and are skipped.
    """
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            yield (relative.parts[0] if len(relative.parts) > 1 else ""), path


class NotAnImage(ValueError):
    """Pillow cannot identify the file as any image format."""


def open_image(path: Path) -> Any:
    """The decoded image (a loaded PIL image); NotAnImage, or ValueError for a corrupt image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            return image.copy()
    except UnidentifiedImageError as error:
        raise NotAnImage("not an image Pillow can identify") from error
    # Pillow signals truncated or garbled files with any of these.
    except (OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"corrupt image: {error}") from error


# --- output -----------------------------------------------------------------------------------------

def write_json(path: str | None, data: dict[str, Any]) -> None:
    """Write the --json report (NaN and infinity as null: strict JSON readers reject them)."""
    write_text(path, json.dumps(_finite(data), indent=2) + "\n")


def write_text(path: str | None, text: str) -> None:
    """Write an output file (its folder made as needed); nothing when no path was given."""
    if not path:
        return
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")
    except OSError as error:
        raise MlopsCiError(f"cannot write: {error.strerror}", where=path) from error


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value
