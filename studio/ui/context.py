"""What every section of the window shares: the composition root (:class:`Studio`).

``AppContext`` is the name the widgets know it by; it is the same object the CLI uses.
"""

from __future__ import annotations

from studio.services.studio import Studio

AppContext = Studio

__all__ = ["AppContext"]
