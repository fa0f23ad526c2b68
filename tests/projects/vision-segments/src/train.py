"""Stage train: a small CNN on the shapes; TorchScript model, metrics, loss history, confusion image."""
import csv
import json
from pathlib import Path

import torch
import yaml
from PIL import Image, ImageDraw

from src import dataset

MODEL = Path("models/model.pt")
REPORTS = Path("reports")


def network(channels: int, classes: int) -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, channels, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(channels, channels, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(channels * 4, classes))


def confusion_image(matrix: list[list[int]], names: list[str]) -> Image.Image:
    """The confusion matrix as a small heat map: rows actual, columns predicted."""
    cell, size = 40, len(names)
    image = Image.new("RGB", (cell * size + 60, cell * size + 20), "white")
    draw = ImageDraw.Draw(image)
    peak = max(max(row) for row in matrix) or 1
    for row, counts in enumerate(matrix):
        draw.text((2, 20 + row * cell + cell // 2), names[row][:8], fill="black")
        for column, count in enumerate(counts):
            shade = 255 - int(200 * count / peak)
            box = (60 + column * cell, 20 + row * cell, 60 + (column + 1) * cell - 1, 20 + (row + 1) * cell - 1)
            draw.rectangle(box, fill=(shade, shade, 255))
            draw.text((box[0] + 12, box[1] + 14), str(count), fill="black")
    return image


def main() -> None:
    params = yaml.safe_load(Path("params.yaml").read_text(encoding="utf-8"))["train"]
    torch.manual_seed(params["seed"])
    torch.set_num_threads(1)
    names = dataset.classes()
    (train_x, train_y), (test_x, test_y) = dataset.load(test_share=params["test_share"], seed=params["seed"])
    model = network(params["channels"], len(names))
    optimizer = torch.optim.Adam(model.parameters(), lr=params["lr"])
    history = []
    for epoch in range(params["epochs"]):
        order = torch.randperm(len(train_x))
        total = 0.0
        for start in range(0, len(order), params["batch_size"]):
            batch = order[start:start + params["batch_size"]]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(train_x[batch]), train_y[batch])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        history.append({"epoch": epoch, "loss": round(total / len(order), 6)})
    model.eval()
    with torch.no_grad():
        predicted = model(test_x).argmax(dim=1)
    matrix = [[int(((test_y == actual) & (predicted == guess)).sum()) for guess in range(len(names))]
              for actual in range(len(names))]
    MODEL.parent.mkdir(parents=True, exist_ok=True)
    torch.jit.save(torch.jit.script(model), str(MODEL))
    REPORTS.mkdir(exist_ok=True)
    accuracy = float((predicted == test_y).float().mean())
    (REPORTS / "metrics.json").write_text(json.dumps(
        {"accuracy": round(accuracy, 6), "loss": history[-1]["loss"], "n_test": len(test_y)}, indent=2) + "\n",
        encoding="utf-8")
    with (REPORTS / "history.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=["epoch", "loss"])
        writer.writeheader()
        writer.writerows(history)
    with (REPORTS / "predictions.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(("actual", "predicted"))
        writer.writerows((names[int(a)], names[int(p)]) for a, p in zip(test_y, predicted))
    confusion_image(matrix, names).save(REPORTS / "confusion.png")


if __name__ == "__main__":
    main()
