"""The MLflow python model of the pyfunc flavor (training.flavors): the project's loader, called on the
logged model file, gives the object whose `predict` serves.

MLflow pickles this class with cloudpickle; it is pickled by value (not by reference to mlops_ci),
and the loader's package travels as the model's code, so a served model needs mlops-ci nowhere.
(MLflow warns that `predict` has no type hints: hints would make it check the input against them,
and what the project's model takes is the project's business.)
"""

import importlib
import sys

import cloudpickle
import mlflow.pyfunc


class ProjectModel(mlflow.pyfunc.PythonModel):  # pylint: disable=abstract-method  # no streaming predict
    """A model that the project's `module:function` loads from the file logged as artifact `model`."""

    def __init__(self, loader: str) -> None:
        self.loader = loader
        self.model = None

    def load_context(self, context):
        module_name, _, function_name = self.loader.partition(":")
        self.model = getattr(importlib.import_module(module_name), function_name)(context.artifacts["model"])

    def predict(self, context, model_input, params=None):  # pylint: disable=unused-argument
        return self.model.predict(model_input)


cloudpickle.register_pickle_by_value(sys.modules[__name__])
