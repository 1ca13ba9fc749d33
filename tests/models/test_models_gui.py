"""The model manager dialog and the Generate section's LoRA list, on the real window (pytest-qt),
with the FAKE hub of fake_hub.py behind HF_ENDPOINT."""

from __future__ import annotations

from studio.core.generation.families import Family
from studio.core.generation.registry import ModelRegistry
from tests.models.fake_hub import FakeRepo


def test_models_dialog_plans_downloads_and_lists(studio_window, qtbot, hub,
                                                 tiny_single_file) -> None:
    from studio.ui.models_dialog import ModelsDialog

    repo = hub.add(FakeRepo("fake-org/tiny-checkpoint", {
        "model.safetensors": tiny_single_file.read_bytes()}, licence="openrail"))
    dialog = ModelsDialog(studio_window.ctx, studio_window)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.starters.rowCount() == 5
    assert dialog.starters.item(4, 0).text() == "FLUX.1 [schnell]"
    dialog.repo.setText(repo.repo_id)
    dialog.check_btn.click()
    qtbot.waitUntil(lambda: dialog.download_btn.isEnabled(), timeout=30_000)
    assert "openrail" in dialog.plan_label.text() and "1 files" in dialog.plan_label.text()
    assert dialog.table.rowCount() == 0
    dialog.download_btn.click()
    qtbot.waitUntil(lambda: dialog.progress.format().startswith("Registered"), timeout=60_000)
    assert dialog.table.rowCount() == 1
    assert dialog.table.item(0, 1).text() == "SD 1.5"
    assert dialog.table.item(0, 4).text().startswith(f"{repo.repo_id}@")
    dialog.family.setCurrentIndex(dialog.family.findData("flux-dev"))
    assert dialog.table.rowCount() == 0  # filtered by family


def test_lora_list_in_generate_section_builds_the_request(studio_window, qtbot, tiny_model,
                                                          tmp_path) -> None:
    import torch
    from safetensors.torch import save_file

    lib = studio_window.ctx.library
    entry = ModelRegistry(lib).add(tiny_model)
    lora_path = tmp_path / "tiny-lora.safetensors"
    save_file({"unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora_A.weight":
               torch.zeros(4, 32),
               "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora_B.weight":
               torch.zeros(32, 4)}, str(lora_path), metadata={
                   "modelspec.trigger_phrase": "tinystyle"})
    from studio.core.generation.lora import LoraRegistry

    lora = LoraRegistry(lib).add(lora_path)
    studio_window.show_section("generate")
    section = studio_window.page("generate")
    section._reload_models(select=entry.id)
    assert list(section.lora_box.rows) == [lora.id]
    section.prompt.setPlainText("a kite")
    section.lora_box.set_weight(lora.id, 0.65)
    [ref] = section.build_request().loras
    assert (ref.id, ref.sha256, ref.weight) == (lora.id, lora.sha256, 0.65)
    assert "tinystyle" in section.lora_box.rows[lora.id][0].toolTip()
    section.lora_box.set_weight(lora.id, None)
    assert section.build_request().loras == ()
    # A FLUX model brings its own recipe (flow models only take Euler) and no SD 1.5 LoRAs.
    from studio.core.generation.demo_families import build_tiny_pipeline

    build_tiny_pipeline(tmp_path / "tiny-flux", Family.FLUX_SCHNELL)
    flux = ModelRegistry(lib).add(tmp_path / "tiny-flux")
    section._reload_models(select=flux.id)
    assert section.scheduler.currentText() == "Euler" and section.steps.value() == 4
    assert section.lora_box.rows == {}
