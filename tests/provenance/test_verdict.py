"""Verdict wording and SDK-error mapping (Qt-free; the inspector and CLI only display these)."""

from __future__ import annotations

import pytest

from studio.core.provenance.report import Badge, ProvenanceReport, ProvenanceState
from studio.core.provenance.verdict import sdk_error_state, signed_at_text, state_text


@pytest.mark.parametrize("message,expected", [
    ("Remote: must fetch remote manifests from url https://x.example/m.c2pa",
     ("remote", "https://x.example/m.c2pa", "manifest.inaccessible")),
    ('Remote: could not fetch the remote manifest remote URI "http://h:1/a" is not permitted',
     ("inaccessible", "http://h:1/a", "manifest.inaccessible")),
    ("Manifest: more than one manifest store detected", ("invalid", None, "claim.multiple")),
    ("Verify: claim missing", ("invalid", None, "claim.missing")),
    ("something unexpected", ("invalid", None, "general.error")),
])
def test_sdk_errors_map_to_states_and_codes(message, expected):
    assert sdk_error_state(message) == expected


def test_every_state_has_words_and_a_badge():
    for state in ProvenanceState:
        report = ProvenanceReport("f", state, remote_url="https://x.example/m")
        assert state_text(report)
        assert isinstance(report.badge, Badge)
    assert ProvenanceReport("f", ProvenanceState.REMOTE).badge is Badge.UNCHECKED
    assert ProvenanceReport("f", ProvenanceState.INACCESSIBLE).badge is Badge.UNCHECKED


def test_signed_at_wording_says_where_the_time_comes_from():
    report = ProvenanceReport("f", ProvenanceState.VALID, signed_at="2026-01-02T03:04:05Z")
    assert signed_at_text(report) == "signed at (claimed) 2026-01-02T03:04:05Z"
    report.time_stamp = {"authority": "DigiCert TSA", "time": "2026-01-02T03:04:06Z",
                         "trusted": True}
    assert signed_at_text(report) == "time-stamped by DigiCert TSA at 2026-01-02T03:04:06Z"
    report.time_stamp["trusted"] = False
    assert signed_at_text(report).endswith("(time-stamp authority not on your trust list)")
