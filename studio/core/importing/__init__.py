"""Media import: format sniffing, safety checks, thumbnails and the import service."""

from studio.core.importing.service import (
    ImportService,
    ImportSummary,
    Progress,
    Rejected,
    Rejection,
)
from studio.core.importing.sniff import MediaFormat, MediaKind, sniff_bytes, sniff_file
from studio.core.importing.thumbnails import ThumbnailCache

__all__ = ["ImportService", "ImportSummary", "MediaFormat", "MediaKind", "Progress", "Rejected",
           "Rejection", "ThumbnailCache", "sniff_bytes", "sniff_file"]
