"""The mint's soft-binding id (core/chain/durable.py): the asset's own, read from its manifest,
unless given; another file's is refused (it would lead that file's copies to this token)."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest

from studio.core.chain.durable import SoftBinding, studio_soft_binding, with_soft_binding
from studio.core.chain.plan import MintError, MintPlan, SplitEntry
from studio.core.provenance import watermark as wm

ME = "0x" + "11" * 20
OWN = SoftBinding(wm.ALG_NAMES[wm.BWM], wm.payload_for(0x0BADCAFE))


def plan(binding: bytes | None = None) -> MintPlan:
    return MintPlan(asset_id=1, title="t", split=(SplitEntry(ME, Decimal(100)),),
                    new_collection=("C", "C"), soft_binding_id=binding)


def test_the_assets_own_id_is_recorded_unless_given() -> None:
    assert with_soft_binding(plan(), OWN).soft_binding_id == OWN.value
    assert with_soft_binding(plan(), None).soft_binding_id is None
    assert with_soft_binding(plan(OWN.value), OWN).soft_binding_id == OWN.value
    # An unmarked file may record an id given by hand (another tool's watermark).
    assert with_soft_binding(plan(b"\x01\x02"), None).soft_binding_id == b"\x01\x02"
    with pytest.raises(MintError, match="is not this file's"):
        with_soft_binding(plan(wm.payload_for(0x0BADCAFF)), OWN)


def test_only_a_studio_algorithm_counts_from_the_manifest() -> None:
    value = base64.b64encode(OWN.value).decode()
    other = {"alg": "com.example.other-mark", "blocks": [{"scope": {}, "value": value}]}
    ours = {"alg": OWN.algorithm, "blocks": [{"scope": {}, "value": "not base64!"},
                                             {"scope": {}, "value": value}]}
    assert studio_soft_binding([other]) is None
    assert studio_soft_binding([other, ours]) == OWN
