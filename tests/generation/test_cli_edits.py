"""``studio generate --init --mask / --outpaint / --reuse`` and ``studio upscale``, in-process,
with the real tiny pipeline, c2pa and keyring."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from studio.cli import main
from studio.core.provenance.reader import read_report
from studio.core.provenance.report import ProvenanceState


@pytest.fixture
def keyring_ok():
    import keyring

    from studio.core.wallet.vault import backend_problem

    problem = backend_problem(keyring.get_keyring())
    if problem:
        pytest.skip(f"no usable OS keyring ({problem}); run through scripts/with-keyring.sh")


def run_json(capsys, *argv: str) -> dict:
    rc = main([*argv, "--json"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    return json.loads(captured.out)


def pixels(path: str) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def test_cli_inpaint_outpaint_upscale_and_reuse(tiny_model, tmp_path, capsys,
                                                keyring_ok) -> None:
    out = tmp_path / "out"
    first = run_json(capsys, "generate", "--model", str(tiny_model), "--prompt", "a boat",
                     "--seed", "3", "--steps", "2", "--size", "64x64")["outputs"][0]
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (20, 8, 44, 40))
    mask.save(tmp_path / "mask.png")
    inpaint = run_json(capsys, "generate", "--model", str(tiny_model), "--prompt", "a red boat",
                       "--init", str(first["asset_id"]), "--mask", str(tmp_path / "mask.png"),
                       "--steps", "2", "--out", str(out))
    assert inpaint["mode"] == "inpaint" and inpaint["request"]["strength"] == 0.75
    edited = inpaint["outputs"][0]
    keep = np.asarray(mask) == 0
    assert np.array_equal(pixels(edited["copy"])[keep], pixels(first["path"])[keep])

    outp = run_json(capsys, "generate", "--model", str(tiny_model), "--prompt", "sea",
                    "--init", edited["sha256"], "--outpaint", "right=32,top=8", "--steps", "2")
    assert outp["mode"] == "outpaint" and outp["request"]["strength"] == 1.0
    o = outp["outputs"][0]
    assert (o["width"], o["height"]) == (96, 72)
    assert np.array_equal(pixels(o["path"])[8:, :64], pixels(edited["path"]))

    up = run_json(capsys, "upscale", str(o["asset_id"]), "--scale", "4", "--out", str(out))
    assert (up["width"], up["height"]) == (384, 288) and up["upscale"]["method"] == "lanczos"
    report = read_report(up["copy"])
    assert report.state is ProvenanceState.VALID, report.failures
    assert "c2pa.resized" in [a["action"] for a in report.actions]

    again = run_json(capsys, "generate", "--reuse", edited["copy"])
    assert again["request"] == inpaint["request"]
    assert np.array_equal(pixels(again["outputs"][0]["path"]), pixels(edited["path"]))
    other_seed = run_json(capsys, "generate", "--reuse", str(edited["asset_id"]), "--seed", "8")
    assert other_seed["request"]["seed"] == 8
    assert other_seed["request"]["mask_sha256"] == inpaint["request"]["mask_sha256"]


def test_cli_edit_errors_are_clear(tiny_model, tmp_path, capsys) -> None:
    first = run_json(capsys, "generate", "--model", str(tiny_model), "--prompt", "x",
                     "--steps", "1", "--size", "64x64")["outputs"][0]
    model = ["--model", str(tiny_model), "--prompt", "x", "--steps", "1"]
    (tmp_path / "m.png").write_bytes(b"no image")
    cases = [
        (["generate", *model, "--mask", str(tmp_path / "m.png")], 2, "give it with --init"),
        (["generate", *model, "--init", "1", "--mask", str(tmp_path / "m.png")], 1,
         "cannot be read as an image"),
        (["generate", *model, "--init", "1", "--mask", str(tmp_path / "none.png")], 1,
         "cannot read the mask"),
        (["generate", *model, "--init", "1", "--outpaint", "left=-5"], 2, "--outpaint must"),
        (["generate", *model, "--init", "1", "--outpaint", "0"], 2, "--outpaint must"),
        (["generate", *model, "--init", "1", "--outpaint", "8", "--mask", "x.png"], 2,
         "not both"),
        (["generate", "--prompt", "x"], 2, "--model is required"),
        (["generate", "--reuse", str(tmp_path / "m.png")], 1, "no content credentials"),
        (["generate", "--reuse", "nothing-here"], 1, "neither a library asset nor a file"),
        (["upscale", "999"], 1, "no library asset"),
        (["upscale", "1", "--model", "nope"], 1, "no upscaler"),
        (["upscale", "1", "--model", str(tiny_model.parent / "tiny-sd.safetensors")], 1,
         "not an upscaler"),
    ]
    Image.new("L", (64, 64), 0).save(tmp_path / "black.png")
    cases.append((["generate", *model, "--init", "1", "--mask", str(tmp_path / "black.png")],
                  1, "empty"))
    for argv, code, words in cases:
        assert main(argv) == code, argv
        assert words in capsys.readouterr().err, argv
    assert first["asset_id"] == 1
