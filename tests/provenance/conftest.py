"""Provenance fixtures: a real signing identity whose keys live in the real OS keyring."""

from __future__ import annotations

import io

import pytest

WALLET_KEY = "0x" + "11" * 32
OTHER_KEY = "0x" + "22" * 32


def _require_keyring() -> None:
    import keyring
    from keyring.backends import fail

    if isinstance(keyring.get_keyring(), fail.Keyring):
        pytest.skip("no OS keyring: run the tests through scripts/with-keyring.sh")


@pytest.fixture
def account():
    from eth_account import Account

    return Account.from_key(WALLET_KEY)


@pytest.fixture
def other_account():
    from eth_account import Account

    return Account.from_key(OTHER_KEY)


@pytest.fixture
def settings():
    from studio.core.settings import Settings

    s = Settings()
    s.provenance.creator_name = "Ada Lovelace"
    s.provenance.training_mining = "notAllowed"
    return s


@pytest.fixture
def sign(paths, settings, account):
    """The generation signer, exactly as the output step gets it."""
    _require_keyring()
    from studio.core.provenance.signing import make_generation_signer

    return make_generation_signer(paths, settings, account)


def image_bytes(fmt: str, size: tuple[int, int] = (96, 64)) -> bytes:
    from PIL import Image

    img = Image.effect_noise(size, 50).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


REQUEST = {"prompt": "a lighthouse at dusk", "negative_prompt": "", "steps": 4,
           "guidance": 1.5, "scheduler": "Euler a", "width": 96, "height": 64,
           "model": {"name": "tiny-test", "sha256": "ab" * 32}}
