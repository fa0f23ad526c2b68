"""The classifier network, and how it is saved, loaded and run.

The network is a plain ``nn.Sequential`` of built-in layers so that the model MLflow stores needs
nothing from this repository to be loaded.
"""
from pathlib import Path

import numpy as np
import torch
from torch import nn

from src.common import NUM_CLASSES


def select_device() -> torch.device:
    """Train on a GPU when one is available; otherwise on the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def build_model(image_size: int, hidden: int) -> nn.Sequential:
    """A small multi-layer perceptron: image pixels -> ``hidden`` ReLU units -> one logit per class."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(image_size * image_size, hidden),
        nn.ReLU(),
        nn.Linear(hidden, NUM_CLASSES),
    )


def save_checkpoint(model: nn.Sequential, image_size: int, hidden: int, path: Path) -> None:
    """Save the weights (always as CPU tensors) with the shape needed to rebuild the network."""
    path.parent.mkdir(parents=True, exist_ok=True)
    weights = {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}
    torch.save({"image_size": image_size, "hidden": hidden, "state_dict": weights}, path)


def load_checkpoint(path: Path) -> nn.Sequential:
    """Rebuild a network saved by :func:`save_checkpoint`, on the CPU, ready for inference."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(checkpoint["image_size"], checkpoint["hidden"])
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval()


def predict(model: nn.Module, images: np.ndarray) -> np.ndarray:
    """Predicted class of each image, as a numpy array."""
    device = next(model.parameters()).device
    with torch.no_grad():
        logits = model(torch.as_tensor(images, device=device))
    return logits.argmax(dim=1).cpu().numpy()
