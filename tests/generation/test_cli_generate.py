"""``studio generate`` / ``studio models`` / ``studio demo-model`` in-process."""

from __future__ import annotations

import json

from PIL import Image

from studio.cli import main


def test_generate_cli_writes_library_and_out_dir(tiny_model, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    rc = main(["generate", "--model", str(tiny_model), "--prompt", "a tiny boat", "--seed", "9",
               "--steps", "2", "--size", "64x64", "--batch", "2", "--scheduler", "DDIM",
               "--out", str(out), "--json"])
    assert rc == 0
    result = json.loads(capsys.readouterr().out)
    assert [o["seed"] for o in result["outputs"]] == [9, 10]
    assert result["request"]["scheduler"] == "DDIM"
    for o in result["outputs"]:
        with Image.open(o["copy"]) as img:
            assert img.size == (64, 64) and "Seed: " in img.text["parameters"]
    first = result["outputs"][0]["asset_id"]
    rc = main(["generate", "--model", result["request"]["model_id"], "--prompt", "again",
               "--steps", "2", "--size", "64x64", "--init", str(first), "--strength", "0.5"])
    assert rc == 0 and capsys.readouterr().out.strip().endswith(".png")
    assert main(["models", "list"]) == 0
    assert result["request"]["model_id"] in capsys.readouterr().out


def test_generate_cli_errors_are_clear(tiny_model, tmp_path, capsys) -> None:
    assert main(["generate", "--model", "nope", "--prompt", "x"]) == 1
    assert "not a registered id" in capsys.readouterr().err
    assert main(["generate", "--model", str(tiny_model), "--prompt", "x",
                 "--size", "big"]) == 2
    assert "--size must look like" in capsys.readouterr().err
    assert main(["generate", "--model", str(tiny_model), "--prompt", "x", "--init", "999"]) == 1
    assert "no library asset" in capsys.readouterr().err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    assert main(["demo-model", str(tmp_path / "full")]) == 1
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
