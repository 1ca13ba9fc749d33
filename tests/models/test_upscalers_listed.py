"""The model manager lists the upscalers (the ``upscale_models`` table) beside the diffusion
models and LoRAs, with the family "upscaler": `studio models list`, its view-model and the
dialog's table. A tiny real ESRGAN (random weights, detected by spandrel) and the tiny SD model."""

from __future__ import annotations

import json

from studio.cli import main
from tests.generation.test_edits import _tiny_esrgan


def _listing(capsys, *args: str) -> list[dict]:
    assert main(["models", "list", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_models_list_shows_upscalers_with_their_family(paths, tiny_model, tmp_path,
                                                       capsys) -> None:
    assert main(["models", "add", str(tiny_model)]) == 0
    assert main(["models", "add", str(_tiny_esrgan(tmp_path / "crisp-x4.safetensors", 4))]) == 0
    capsys.readouterr()
    everything = _listing(capsys)
    assert [(r["kind"], r["family"]) for r in everything] == [("folder", "sd15"),
                                                              ("upscaler", "upscaler")]
    [up] = _listing(capsys, "--family", "upscaler")
    assert (up["name"], up["architecture"], up["scale"]) == ("crisp-x4", "ESRGAN", 4)
    assert len(up["sha256"]) == 64 and up["size"] > 0
    assert [r["family"] for r in _listing(capsys, "--family", "sd15")] == ["sd15"]
    assert _listing(capsys, "--search", "crisp") == [up]
    assert _listing(capsys, "--family", "upscaler", "--search", "tiny-sd") == []
    assert main(["models", "list"]) == 0
    text = capsys.readouterr().out
    assert "upscaler" in text and "ESRGAN 4x  crisp-x4" in text


def test_manager_view_model_and_dialog_list_upscalers(studio_window, qtbot, tiny_model,
                                                      tmp_path) -> None:
    from studio.core.generation.registry import ModelRegistry
    from studio.core.generation.upscale import UpscalerRegistry
    from studio.ui.models_dialog import ModelsDialog

    lib = studio_window.ctx.library
    ModelRegistry(lib).add(tiny_model)
    up = UpscalerRegistry(lib).add(_tiny_esrgan(tmp_path / "crisp-x2.safetensors", 2))
    dialog = ModelsDialog(studio_window.ctx, studio_window)
    qtbot.addWidget(dialog)
    rows = dialog.vm.rows()
    assert [(r.kind, r.family) for r in rows] == [("folder", "sd15"), ("upscaler", "upscaler")]
    assert rows[1].id == up.id and rows[1].detail == "ESRGAN 2×"
    assert [r.id for r in dialog.vm.rows("upscaler")] == [up.id]
    assert [r.kind for r in dialog.vm.rows("sd15")] == ["folder"]
    dialog.reload()
    assert dialog.table.rowCount() == 2
    assert dialog.table.item(1, 1).text() == "Upscaler · ESRGAN 2×"
    dialog.family.setCurrentIndex(dialog.family.findData("upscaler"))
    assert dialog.table.rowCount() == 1 and dialog.table.item(0, 0).text() == "crisp-x2"
