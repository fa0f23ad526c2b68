"""`mlops-ci data-check`: real PNGs (Pillow) and real CSV/Parquet files made by the tests."""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mlops_ci.monitoring import io as monitor_io
from mlops_ci.cli import main
from mlops_ci.monitoring.data_check import parse_rule

RNG_SEED = 7


def png_bytes(pixels: np.ndarray, mode: str = "L") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8), mode=mode if mode != "L" else None).save(buffer, format="PNG")
    return buffer.getvalue()


def make_dataset(root, classes=("0", "1", "2"), per_class=12, seed=RNG_SEED):
    """A clean class-per-folder dataset of distinct 8x8 grayscale PNGs."""
    rng = np.random.default_rng(seed)
    for label in classes:
        (root / label).mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            (root / label / f"{index:03d}.png").write_bytes(png_bytes(rng.integers(0, 256, (8, 8))))
    return root


def check(path, tmp_path, *args):
    report = tmp_path / "report.json"
    code = main(["data-check", str(path), "--json", str(report), *args])
    return code, json.loads(report.read_text()) if report.exists() else None


def problems(report, name):
    return sorted(problem["where"] for problem in report["problems"] if problem["check"] == name)


# --- images -----------------------------------------------------------------------------------------

def test_a_clean_dataset_passes(tmp_path, capsys):
    data = make_dataset(tmp_path / "raw")
    (data / ".gitkeep").write_text("")  # hidden files are not data
    code, report = check(data, tmp_path)
    assert code == 0 and report["ok"] and report["problems"] == []
    assert report["stats"] == {"files": 36, "images": 36, "classes": {"0": 12, "1": 12, "2": 12},
                               "mode": "L", "size": [8, 8]}
    assert "data-check: ✅ clean" in capsys.readouterr().out


def test_every_image_problem_is_found_with_its_file(tmp_path):
    data = make_dataset(tmp_path / "raw")
    good = (data / "0" / "000.png").read_bytes()
    (data / "0" / "truncated.png").write_bytes(good[: len(good) // 2])
    (data / "0" / "garbage.png").write_bytes(b"\x89PNG not really")
    (data / "1" / "notes.txt").write_text("labelling notes")
    (data / "0" / "copy.png").write_bytes(good)                       # duplicate, same class
    (data / "2" / "conflict.png").write_bytes((data / "1" / "000.png").read_bytes())  # other class
    rng = np.random.default_rng(1)
    (data / "2" / "rgb.png").write_bytes(png_bytes(rng.integers(0, 256, (8, 8, 3)), "RGB"))
    (data / "2" / "big.png").write_bytes(png_bytes(rng.integers(0, 256, (16, 16))))
    (data / "stray.png").write_bytes(good)
    (data / "3").mkdir()
    code, report = check(data, tmp_path)
    assert code == 1 and not report["ok"]
    assert problems(report, "unreadable") == ["0/garbage.png", "0/truncated.png"]
    assert problems(report, "not_image") == ["1/notes.txt"]
    assert problems(report, "duplicate") == ["0/copy.png"]
    assert problems(report, "label_conflict") == ["1/000.png", "2/conflict.png"]
    assert problems(report, "mode") == ["2/rgb.png"]
    assert problems(report, "size") == ["2/big.png"]
    assert problems(report, "layout") == ["stray.png"]
    assert problems(report, "empty_class") == ["3/"]
    conflict = next(p for p in report["problems"] if p["where"] == "2/conflict.png")
    assert conflict["detail"] == "same pixels as 1/000.png"
    rgb = next(p for p in report["problems"] if p["where"] == "2/rgb.png")
    assert rgb["detail"] == "mode RGB (3 channel(s)), expected L"


def test_a_reencoded_copy_is_still_a_duplicate(tmp_path):
    data = make_dataset(tmp_path / "raw")
    with Image.open(data / "1" / "003.png") as image:
        image.save(data / "1" / "copy.bmp")  # other format, other bytes, same pixels
    _, report = check(data, tmp_path)
    assert problems(report, "duplicate") == ["1/copy.bmp"]


def test_tiny_classes_and_imbalance_follow_the_config(tmp_path):
    data = make_dataset(tmp_path / "raw", classes=("a", "b"), per_class=4)
    make_dataset(data, classes=("c",), per_class=30, seed=9)
    code, report = check(data, tmp_path)
    assert code == 1 and [p["check"] for p in report["problems"]] == ["tiny_class", "tiny_class"]
    assert problems(report, "tiny_class") == ["a/", "b/"]  # ratio 7.5: within the default 10
    config = tmp_path / "config.yml"
    config.write_text("data_check:\n  images:\n    min_per_class: 4\n    max_imbalance: 8\n")
    assert check(data, tmp_path, "--config", str(config))[0] == 0
    config.write_text("data_check:\n  images:\n    min_per_class: 4\n    max_imbalance: 5\n")
    code, report = check(data, tmp_path, "--config", str(config))
    assert code == 1 and [p["check"] for p in report["problems"]] == ["imbalance"]
    assert report["problems"][0]["detail"] == "c/ has 30 images, a/ 4: ratio 7.5 > 5"


def test_expected_mode_and_size_from_the_config(tmp_path):
    data = make_dataset(tmp_path / "raw")
    config = tmp_path / "config.yml"
    config.write_text("data_check:\n  images:\n    mode: RGB\n    size: [8, 8]\n")
    code, report = check(data, tmp_path, "--config", str(config))
    assert code == 1 and len(problems(report, "mode")) == 36 and not problems(report, "size")
    config.write_text("data_check:\n  images:\n    size: any\n")
    (data / "0" / "big.png").write_bytes(png_bytes(np.full((16, 16), 3)))
    assert check(data, tmp_path, "--config", str(config))[0] == 0


def test_the_default_config_file_is_read_when_present(tmp_path, monkeypatch):
    data = make_dataset(tmp_path / "raw", per_class=3)
    monkeypatch.chdir(tmp_path)
    assert check(data, tmp_path)[0] == 1  # 3 < the default 10 per class
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "mlops-ci.yml").write_text("policy: {}\ndata_check:\n  images: {min_per_class: 3}\n")
    assert check(data, tmp_path)[0] == 0


# --- tables -----------------------------------------------------------------------------------------

ORDERS = """order_id,price,category,start_date,end_date,quantity
1,9.5,book,2024-01-01,2024-01-03,1
2,-3,book,2024-01-01,2024-01-02,2
3,,toy,2024-02-01,2024-01-15,1
4,12,food,2024-03-01,2024-03-01,x
1,9.5,book,2024-01-01,2024-01-03,1
6,20000,toy,2024-03-05,not-a-date,3
"""

ORDERS_CONFIG = """\
data_check:
  table:
    columns:
      price: {type: number, min: 0, max: 1000}
      category: {allowed: [book, toy]}
      start_date: {type: date}
      end_date: {type: date}
      quantity: {type: integer, min: 1}
      discount: {required: false}
    rules:
      - price > 0
      - end_date >= start_date
      - category != 'food'
"""


def test_every_table_problem_names_its_row_and_rule(tmp_path):
    table = tmp_path / "orders.csv"
    table.write_text(ORDERS)
    config = tmp_path / "config.yml"
    config.write_text(ORDERS_CONFIG)
    code, report = check(table, tmp_path, "--config", str(config))
    assert code == 1
    found = {(p["check"], p.get("row"), p.get("column")) for p in report["problems"]}
    assert found == {
        ("missing", 3, "price"),
        ("range", 2, "price"), ("range", 6, "price"),
        ("allowed", 4, "category"),
        ("type", 4, "quantity"), ("type", 6, "end_date"),
        ("duplicate_row", 5, None),
        ("rule", 2, "price"),             # price > 0
        ("rule", 3, "end_date"),          # end_date >= start_date
        ("rule", 4, "category"),          # category != 'food'
    }
    rule = next(p for p in report["problems"] if p["check"] == "rule" and p["row"] == 3)
    assert rule["detail"] == "end_date >= start_date is false"
    assert next(p for p in report["problems"] if p["check"] == "duplicate_row")["detail"] == "same as row 1"
    assert report["counts"]["rule"] == 3 and report["stats"]["rows"] == 6


def test_a_clean_parquet_table_passes_and_missing_columns_are_reported(tmp_path):
    table = tmp_path / "clean.parquet"
    pd.DataFrame({"price": [1.0, 2.5], "flag": ["yes", "no"], "n": [1, 2]}).to_parquet(table)
    config = tmp_path / "config.yml"
    config.write_text("data_check:\n  table:\n    columns:\n      price: {type: number}\n"
                      "      flag: {type: boolean}\n      n: {allowed: [1, 2]}\n    rules: ['n <= 2', 'flag == \"yes\"']\n")
    code, report = check(table, tmp_path, "--config", str(config))
    assert code == 1 and problems(report, "rule") == ["row 2"]
    config.write_text("data_check:\n  table:\n    columns:\n      price: {type: number}\n      sku: {}\n")
    code, report = check(table, tmp_path, "--config", str(config))
    assert code == 1 and problems(report, "missing_column") == ["sku"]
    assert check(table, tmp_path, "--config", str(tmp_path / "none.yml"))[0] == 2


def test_missing_values_are_fine_in_nullable_columns_and_duplicates_can_be_allowed(tmp_path):
    table = tmp_path / "rows.jsonl"
    table.write_text('{"a": 1, "b": null}\n{"a": 1, "b": null}\n')
    assert problems(check(table, tmp_path)[1], "missing") == ["row 1", "row 2"]
    config = tmp_path / "config.yml"
    config.write_text("data_check:\n  table:\n    duplicates: false\n    columns:\n      b: {nullable: true}\n")
    assert check(table, tmp_path, "--config", str(config))[0] == 0


@pytest.mark.parametrize("text", ["price >", "price ~ 3", "price > @x", "1 > price", "price > 3 and x"])
def test_rules_outside_the_grammar_are_refused(text):
    with pytest.raises(ValueError):
        parse_rule(text)


def test_rule_literals():
    assert parse_rule("`unit price` >= 1.5e2").right == 150.0
    assert parse_rule("active == true").right is True
    assert parse_rule('name != "x y"').right == "x y"
    assert parse_rule("end >= start").right_is_column


# --- exit 2: unreadable input, bad config -------------------------------------------------------------

def test_bad_configs_exit_2_with_file_and_line(tmp_path, capsys):
    table = tmp_path / "orders.csv"
    table.write_text(ORDERS)
    config = tmp_path / "config.yml"
    # The schema's and the YAML's own errors are tests/unit/config's; these are data-check's rules.
    cases = {
        "data_check:\n  table:\n    colums: {}\n": (3, "unknown key"),  # reaches the loader
        "data_check:\n  table:\n    rules:\n      - price > 0\n      - price => 3\n": (5, "COLUMN OP"),
        "data_check:\n  table:\n    rules:\n      - weight > 0\n": (4, "no column 'weight'"),
    }
    for text, (line, words) in cases.items():
        config.write_text(text)
        assert check(table, tmp_path, "--config", str(config))[0] == 2, text
        err = capsys.readouterr().err
        assert f"{config}:{line}: " in err and words in err, (text, err)


def test_a_rule_on_mixed_values_asks_for_a_type(tmp_path, capsys):
    table = tmp_path / "mixed.jsonl"
    table.write_text('{"code": 1}\n{"code": "x"}\n')
    config = tmp_path / "config.yml"
    config.write_text("data_check:\n  table:\n    rules:\n      - code > 'a'\n")
    assert check(table, tmp_path, "--config", str(config))[0] == 2
    assert f"{config}:4: " in capsys.readouterr().err
    config.write_text("data_check:\n  table:\n    rules:\n      - code > 0\n")
    code, report = check(table, tmp_path, "--config", str(config))
    assert code == 1 and problems(report, "rule") == ["row 2"]  # "x" > 0 can't hold
    config.write_text("data_check:\n  table:\n    columns: {code: {type: date}}\n    rules: [code > 'soon']\n")
    assert check(table, tmp_path, "--config", str(config))[0] == 2
    assert "'soon' is not a date" in capsys.readouterr().err


def test_unreadable_inputs_exit_2(tmp_path, capsys):
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.png").write_bytes(b"")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 nonsense")
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "data.xlsx").write_text("")
    for name, words in (("missing.csv", "no such file"), ("flat", "no class folders"),
                        ("broken.parquet", "cannot read the table"), ("empty.csv", "empty file"),
                        ("data.xlsx", "not a table")):
        assert check(tmp_path / name, tmp_path)[0] == 2
        assert words in capsys.readouterr().err


def test_inside_actions_the_summary_output_and_annotations_are_written(tmp_path, monkeypatch, capsys):
    data = make_dataset(tmp_path / "raw")
    (data / "0" / "copy.png").write_bytes((data / "0" / "001.png").read_bytes())
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    assert main(["data-check", str(data)]) == 1
    assert "| duplicate | 0/copy.png | same pixels as 0/001.png |" in summary.read_text()
    assert "problems<<" in outputs.read_text() and "\n1\n" in outputs.read_text()
    assert "::error file=" in capsys.readouterr().out


def test_long_lists_are_cut_in_markdown_and_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("mlops_ci.monitoring.data_check.JSON_LIMIT", 30)
    table = tmp_path / "dups.csv"
    table.write_text("a\n" + "1\n" * 60)
    code, report = check(table, tmp_path)
    assert code == 1 and report["counts"] == {"duplicate_row": 59} and len(report["problems"]) == 30
    assert "… and 39 more" in capsys.readouterr().out


def test_without_the_monitor_extra_the_command_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "scipy", None)  # import scipy now raises ImportError
    assert main(["data-check", str(tmp_path)]) == 2
    assert "pip install 'mlops-ci[monitor]'" in capsys.readouterr().err
    monkeypatch.delitem(sys.modules, "scipy")
    assert monitor_io.require_monitor_extra() is None
