"""Inputs shared by the monitoring commands (`data-check`, `drift`, `compare`).

Tables (CSV, Parquet, JSON Lines), class-per-folder image datasets, the `data_check:` and `drift:`
sections of the config file, and the `--json` output. numpy, pandas, scipy and Pillow are the
`monitor` extra: they are imported where used, so the CLI starts, and every other command works,
without them.
"""

# pylint: disable=import-outside-toplevel  # the `monitor` extra, see above

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import yaml

from mlops_ci.core.errors import MlopsCiError

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_CONFIG = Path(".github") / "mlops-ci.yml"
SCHEMA_PATH = Path(__file__).resolve().parent / "monitor.schema.json"
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


# --- config -----------------------------------------------------------------------------------------

def _node_lines(node: yaml.Node, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], int]]:
    """(path, 1-based line) of every value in a composed YAML tree."""
    yield path, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _node_lines(value, (*path, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _node_lines(item, (*path, index))


def _parse_yaml(where: str) -> tuple[Any, yaml.Node | None]:
    """(the document, its node tree) of a YAML file, parsed once; errors name the file and line."""
    try:
        with Path(where).open(encoding="utf-8") as stream:
            loader = yaml.SafeLoader(stream)
            try:
                root = loader.get_single_node()
                return (loader.construct_document(root) if root is not None else None), root
            finally:
                loader.dispose()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise MlopsCiError(f"cannot read the config: {reason}", where=where) from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise MlopsCiError(f"malformed YAML: {getattr(error, 'problem', None) or error}", where=where,
                           line=mark.line + 1 if mark is not None else None) from error


class Config:
    """One section of the config file, with the line of every value for error messages."""

    def __init__(self, section: dict[str, Any], where: str | None, lines: dict[tuple[Any, ...], int],
                 name: str) -> None:
        self.section = section
        self.where = where
        self.name = name
        self._lines = lines

    def get(self, *keys: str, default: Any = None) -> Any:
        """The value at `keys` under the section (or `default`)."""
        value: Any = self.section
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                return default
            value = value[key]
        return value

    def error(self, message: str, *keys: Any) -> MlopsCiError:
        """A config error at the value `keys` (under the section), with its line when known."""
        return MlopsCiError(f"{'.'.join(map(str, (self.name, *keys)))}: {message}", where=self.where,
                            line=self._lines.get((self.name, *keys)))


def load_config(option: str | None, name: str) -> Config:
    """Section `name` of --config FILE (must exist), else of .github/mlops-ci.yml when it exists.

    The file is validated against schemas/monitor.schema.json (the monitoring sections only; other
    sections belong to other commands). Errors name the file and line; they exit 2.
    """
    if option is None and not DEFAULT_CONFIG.is_file():
        return Config({}, None, {}, name)
    where = option or str(DEFAULT_CONFIG)
    document, root = _parse_yaml(where)
    lines = dict(_node_lines(root)) if root is not None else {}
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    found = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(document))
    if found is not None:
        path = tuple(found.absolute_path)
        shown = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path).lstrip(".")
        raise MlopsCiError(f"{shown or 'top level'}: {found.message}", where=where, line=lines.get(path))
    return Config((document or {}).get(name) or {}, where, lines, name)


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
