"""Model flavors of `mlops-ci track`: load a pipeline's model file as its flavor does, then log it with
MLflow's flavor of the same name.

Loading comes first and on its own, so a file that its flavor cannot read is an error (exit 2) before
anything reaches MLflow. A project's loader (`model.loader: module:function`, called with the path)
replaces the flavor's own loading: a PyTorch checkpoint rebuilt into its network, say. The pyfunc
flavor has no loading of its own: its loader's object is served through its `predict` method.
"""

from __future__ import annotations

import importlib
import importlib.util
import pickle
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlops_ci.config.sections import ModelConfig
from mlops_ci.core.errors import MlopsCiError

# The package a flavor needs, by flavor (pyfunc needs only what its loader imports).
PACKAGES = {"sklearn": "sklearn", "onnx": "onnx", "pytorch": "torch", "xgboost": "xgboost",
            "lightgbm": "lightgbm"}
SKLEARN_FILES = (".pkl", ".pickle", ".joblib", ".skops")


# The flavor a model file's extension says (`mlops-ci init` fills `model:` with it). Booster files
# share their extension with other data (.json, .txt), so those count only under a model-ish name.
FLAVOR_BY_SUFFIX = {**dict.fromkeys(SKLEARN_FILES, "sklearn"), ".onnx": "onnx",
                    **dict.fromkeys((".pt", ".pth", ".ptc"), "pytorch"),
                    **dict.fromkeys((".ubj", ".xgb"), "xgboost"), ".lgb": "lightgbm"}
FLAVOR_BY_SUFFIX_OF_MODEL_NAME = {".json": "xgboost", ".txt": "lightgbm"}
_MODEL_NAME = re.compile(r"model|booster|xgb|lgb|lightgbm", re.IGNORECASE)


def flavor_of_file(path: str) -> str | None:
    """The flavor a model file's name says (FLAVOR_BY_SUFFIX), or None when it names no model."""
    name = Path(path)
    suffix = name.suffix.lower()
    if suffix in FLAVOR_BY_SUFFIX:
        return FLAVOR_BY_SUFFIX[suffix]
    if suffix in FLAVOR_BY_SUFFIX_OF_MODEL_NAME and _MODEL_NAME.search(name.stem):
        return FLAVOR_BY_SUFFIX_OF_MODEL_NAME[suffix]
    return None


def project_function(reference: str, project: Path) -> Callable[..., Any]:
    """The function `module:function` names, imported from the project folder."""
    module_name, _, function_name = reference.partition(":")
    if str(project.resolve()) not in sys.path:
        sys.path.insert(0, str(project.resolve()))
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as error:
        raise MlopsCiError(f"model.loader: cannot import {reference}: {error}") from error
    if not callable(function):
        raise MlopsCiError(f"model.loader: {reference} is not a function")
    return function


# Imports `module:function` (argv[1]) from the current folder, and says why not on its last line.
_IMPORT_CHECK = ("import importlib, sys; module, _, name = sys.argv[1].partition(':'); "
                 "function = getattr(importlib.import_module(module), name); "
                 "sys.exit(None if callable(function) else f'{sys.argv[1]} is not a function')")


def loader_error(reference: str, project: Path, timeout: float) -> str | None:
    """Why the function `module:function` cannot be imported from the project folder, None when it
    can. It is imported in a child Python, so nothing of the project stays in this one."""
    try:
        done = subprocess.run([sys.executable, "-c", _IMPORT_CHECK, reference], cwd=project, timeout=timeout,
                              capture_output=True, text=True, check=False)
    except subprocess.TimeoutExpired:
        return f"importing {reference} took longer than {timeout:g} s"
    lines = done.stderr.strip().splitlines()
    if done.returncode == 0:
        return None
    return f"cannot import {reference}: {lines[-1] if lines else f'exit code {done.returncode}'}"


def missing_package(flavor: str) -> str | None:
    """The package that flavor `flavor` needs when it is not installed here, else None."""
    package = PACKAGES.get(flavor)
    return package if package and importlib.util.find_spec(package) is None else None


def _load_sklearn(path: Path) -> Any:
    if path.suffix == ".joblib":
        import joblib  # pylint: disable=import-outside-toplevel  # scikit-learn's own dependency
        return joblib.load(path)
    if path.suffix == ".skops":
        import skops.io  # pylint: disable=import-outside-toplevel
        # The file is this pipeline's own output, so the types it holds are trusted.
        return skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))
    if path.suffix in (".pkl", ".pickle"):
        with path.open("rb") as file:
            return pickle.load(file)
    raise ValueError(f"a scikit-learn model is a {', '.join(SKLEARN_FILES)} file")


def _load_onnx(path: Path) -> Any:
    import onnx  # pylint: disable=import-outside-toplevel
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    return model


def _load_torchscript(path: Path) -> Any:
    import torch  # pylint: disable=import-outside-toplevel
    return torch.jit.load(str(path), map_location="cpu")


def _load_xgboost(path: Path) -> Any:
    import xgboost  # pylint: disable=import-outside-toplevel,import-error  # optional: only when installed
    booster = xgboost.Booster()
    booster.load_model(str(path))
    return booster


def _load_lightgbm(path: Path) -> Any:
    import lightgbm  # pylint: disable=import-outside-toplevel
    return lightgbm.Booster(model_file=str(path))


LOADERS: dict[str, Callable[[Path], Any]] = {
    "sklearn": _load_sklearn, "onnx": _load_onnx, "pytorch": _load_torchscript,
    "xgboost": _load_xgboost, "lightgbm": _load_lightgbm}


def load(model: ModelConfig, project: Path) -> Any:
    """The model object in `model.path` of DVC project `project` (exit 2 when it cannot be loaded)."""
    path = project / model.path
    if not path.exists():
        raise MlopsCiError(f"model.path: {model.path} does not exist: the pipeline did not write it")
    package = missing_package(model.flavor)
    if package:
        raise MlopsCiError(f"model.flavor: {model.flavor} needs the package {package}, "
                           "which is not installed")
    loading = project_function(model.loader, project) if model.loader else LOADERS[model.flavor]
    try:
        return loading(path)
    except Exception as error:  # pylint: disable=broad-exception-caught  # any loader's failure is one line
        lines = str(error).strip().splitlines()
        raise MlopsCiError(f"model.path: {model.path} cannot be loaded as {model.flavor}"
                           + (f" by {model.loader}" if model.loader else "")
                           + f": {type(error).__name__}: {lines[0] if lines else ''}") from error


def _log_sklearn(loaded: Any, _model: ModelConfig, _project: Path, requirements: Any) -> Any:
    import mlflow.sklearn  # pylint: disable=import-outside-toplevel
    import skops.io  # pylint: disable=import-outside-toplevel
    # MLflow saves scikit-learn models with skops, which refuses types outside its allow-list (every
    # tree model's sklearn.tree._tree.Tree, for one); this is the model the pipeline just trained.
    trusted = skops.io.get_untrusted_types(data=skops.io.dumps(loaded))
    return mlflow.sklearn.log_model(loaded, name="model", skops_trusted_types=trusted,
                                    pip_requirements=requirements)


def _log_pytorch(loaded: Any, _model: ModelConfig, _project: Path, requirements: Any) -> Any:
    import mlflow.pytorch  # pylint: disable=import-outside-toplevel
    # pt2, MLflow's default, traces the model on an input example, which a project file doesn't give.
    return mlflow.pytorch.log_model(loaded, name="model", serialization_format="pickle",
                                    pip_requirements=requirements)


def _log_named(flavor: str) -> Callable[..., Any]:
    def log_flavor(loaded: Any, _model: ModelConfig, _project: Path, requirements: Any) -> Any:
        return importlib.import_module(f"mlflow.{flavor}").log_model(loaded, name="model",
                                                                     pip_requirements=requirements)
    return log_flavor


def _log_pyfunc(_loaded: Any, model: ModelConfig, project: Path, requirements: Any) -> Any:
    import mlflow.pyfunc  # pylint: disable=import-outside-toplevel
    from mlops_ci.training import pyfunc_model  # pylint: disable=import-outside-toplevel  # imports mlflow
    package = project / model.loader.partition(":")[0].split(".")[0]
    # The project's own loader travels with the model; one from an installed package
    # (fastai.learner:load_learner) comes back with the requirements instead.
    code = [str(path) for path in (package, package.with_suffix(".py")) if path.exists()][:1]
    return mlflow.pyfunc.log_model(name="model", python_model=pyfunc_model.ProjectModel(model.loader),
                                   artifacts={"model": str(project / model.path)}, code_paths=code or None,
                                   pip_requirements=requirements)


LOGGERS: dict[str, Callable[..., Any]] = {
    "sklearn": _log_sklearn, "pytorch": _log_pytorch, "onnx": _log_named("onnx"),
    "xgboost": _log_named("xgboost"), "lightgbm": _log_named("lightgbm"), "pyfunc": _log_pyfunc}


def default_requirements(flavor: str) -> list[str]:
    """MLflow's default pip requirements of a flavor, pinned to what is installed here without a local
    version label (torch's `+cpu` names no release on PyPI)."""
    return [re.sub(r"\+[\w.]+$", "", requirement) for requirement in
            importlib.import_module(f"mlflow.{flavor}").get_default_pip_requirements()]


def log(loaded: Any, model: ModelConfig, project: Path, requirements: Any = None) -> Any:
    """Log `loaded` (what `load` returned) as the active run's `model` artifact in its flavor;
    MLflow's ModelInfo. `requirements`: pip requirements (a list or a file), None for MLflow's own."""
    return LOGGERS[model.flavor](loaded, model, project, requirements)
