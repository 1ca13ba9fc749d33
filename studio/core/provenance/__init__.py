"""C2PA provenance: signing identity, wallet attestation, manifest signing, reading reports.

Nothing here imports Qt; ``c2pa``, ``cryptography`` and ``eth_account`` load inside functions.
"""

from studio.core.provenance.report import ProvenanceReport, ProvenanceState

__all__ = ["ProvenanceReport", "ProvenanceState"]
