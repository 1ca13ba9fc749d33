"""Step previews: computed on the device and handed out without waiting, rate-limited, and
decoded by a tiny autoencoder (TAESD family) when one is set."""

from __future__ import annotations

from studio.core.generation.engine import GenerationEngine, JobState
from studio.core.generation.preview import PreviewPump
from tests.generation.conftest import make_request


def test_previews_are_rate_limited_and_handed_out_once(tiny_model) -> None:
    import torch

    from studio.core.generation.families import FAMILIES, Family

    pump = PreviewPump(FAMILIES[Family.SD15], min_interval=3600)
    latents = torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    first = pump.offer(latents)  # CPU: the copy is synchronous, the image comes at once
    assert first is not None and first.size == (64, 64)
    assert pump.offer(latents) is None and pump.poll() is None  # within the interval: none
    import numpy as np

    from studio.core.generation.preview import latents_to_preview

    # The same picture as the waiting (synchronous) preview of the first item.
    same = latents_to_preview(latents, FAMILIES[Family.SD15])
    assert np.array_equal(np.asarray(first), np.asarray(same))


def _tiny_taesd(folder):
    import torch
    from diffusers import AutoencoderTiny

    torch.manual_seed(0)
    AutoencoderTiny(encoder_block_out_channels=(8, 8, 8, 8),
                    decoder_block_out_channels=(8, 8, 8, 8), num_encoder_blocks=(1, 1, 1, 1),
                    num_decoder_blocks=(1, 1, 1, 1), latent_channels=4).save_pretrained(str(folder))
    return folder


def test_a_registered_tiny_autoencoder_makes_the_previews(library, tiny_model, tmp_path) -> None:
    from studio.core.generation.engine import JobPreview
    from studio.core.settings import GenerationSettings

    good = _tiny_taesd(tmp_path / "taesd")
    broken = tmp_path / "not-taesd"
    broken.mkdir()
    (broken / "config.json").write_text('{"_class_name": "AutoencoderKL"}')
    sizes: dict[str, set] = {}
    for label, folder in (("taesd", good), ("broken", broken), ("none", "")):
        engine = GenerationEngine(library, GenerationSettings(preview_decoder_sd=str(folder)))
        previews: list = []
        engine.add_listener(lambda ev, p=previews: isinstance(ev, JobPreview) and p.append(ev))
        try:
            entry = engine.registry.add(tiny_model)
            job = engine.wait(engine.enqueue(make_request(entry, steps=4)), 120)
        finally:
            engine.shutdown()
        assert job.state is JobState.DONE, job.error  # a broken decoder never fails a job
        sizes[label] = {p.image.size for p in previews}
    # 8x8 latents: the tiny autoencoder decodes 64x64 pixels (shown at 256), the linear map
    # gives 8x8 (shown at 64); a folder that is not an AutoencoderTiny falls back to it.
    assert sizes == {"taesd": {(256, 256)}, "broken": {(64, 64)}, "none": {(64, 64)}}
