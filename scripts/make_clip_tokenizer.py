"""Regenerate the CLIP BPE tokenizer files the studio ships (resources/model_configs/clip/).

Every Stable Diffusion family (SD 1.5, SD 2.x, SDXL's two encoders, SD 3.5's two CLIP encoders,
FLUX.1's CLIP-L) tokenizes with the same CLIP byte-level BPE: 49,152 - 256 - 2 merges over
bytes, 49,408 ids with <|startoftext|> = 49406 and <|endoftext|> = 49407. The studio ships one
copy (vocab.json + merges.txt in Hugging Face's layout) so single-file checkpoints load with no
hub access.

Provenance: OpenAI's ``bpe_simple_vocab_16e6.txt.gz`` (github.com/openai/CLIP, MIT licence,
Copyright (c) 2021 OpenAI), taken from the ``open_clip_torch`` wheel on PyPI, which carries the
same file unchanged (open_clip is MIT too). The derivation is CLIP's own ``SimpleTokenizer``:
``bytes_to_unicode``, ``merges = lines[1:49152-256-2+1]``, ``vocab = bytes + bytes+'</w>' +
joined merges + the two special tokens``; Hugging Face's ``CLIPTokenizer`` files are the same
tables written as JSON / text.

Run:  .venv/bin/python scripts/make_clip_tokenizer.py [open_clip_torch-*.whl]
(without an argument it runs ``pip download --no-deps open_clip_torch`` into a temp folder).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "resources" / "model_configs" / "clip"
BPE_IN_WHEEL = "open_clip/bpe_simple_vocab_16e6.txt.gz"
N_MERGES = 49152 - 256 - 2

sys.path.insert(0, str(REPO))
from studio.core.generation.demo import bytes_to_unicode  # noqa: E402  (the one copy)


def tables(bpe_gz: bytes) -> tuple[dict[str, int], list[str]]:
    lines = gzip.decompress(bpe_gz).decode("utf-8").split("\n")
    merges = lines[1:N_MERGES + 1]
    chars = list(bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + ["".join(m.split()) for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    return {t: i for i, t in enumerate(tokens)}, merges


def _wheel() -> Path:
    tmp = Path(tempfile.mkdtemp())
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "open_clip_torch",
                    "-d", str(tmp)], check=True)
    return next(tmp.glob("open_clip_torch-*.whl"))


def main(argv: list[str]) -> int:
    wheel = Path(argv[0]) if argv else _wheel()
    with zipfile.ZipFile(wheel) as zf:
        vocab, merges = tables(zf.read(BPE_IN_WHEEL))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (OUT / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n",
                                    encoding="utf-8")
    print(f"{wheel.name}: {len(vocab)} tokens, {len(merges)} merges -> {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
