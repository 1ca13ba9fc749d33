"""Screenshots of every section in light and dark, each taken after a live theme switch, at
1024x700 and 1600x1000, into docs/screenshots/ (palette-quantised PNGs, to stay small).

Run: STUDIO_HOME=$(mktemp -d) xvfb-run -a scripts/with-keyring.sh .venv/bin/python \
         scripts/screenshots.py
(a throwaway home: it creates a wallet account, imports a few images and funds the account on
the Sandbox so the views have something to show).
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots"
SIZES = [(1024, 700), (1600, 1000)]


def _sample_images(folder: Path) -> list[Path]:
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (a, b) in enumerate([((40, 90, 160), (230, 180, 90)), ((20, 120, 90), (240, 240, 200)),
                                ((120, 40, 70), (250, 210, 120)), ((30, 30, 60), (90, 200, 250))]):
        img = Image.new("RGB", (512, 512), a)
        draw = ImageDraw.Draw(img)
        for r in range(240, 0, -24):
            t = r / 240
            draw.ellipse((256 - r, 256 - r, 256 + r, 256 + r),
                         fill=tuple(int(x * t + y * (1 - t)) for x, y in zip(a, b, strict=True)))
        path = folder / f"sample-{i + 1}.png"
        img.save(path)
        paths.append(path)
    return paths


async def _mint(ctx, me: str, friend: str):
    """Mint the newest sample with a two-way split, so Activity and the inspector have a
    token to show."""
    from decimal import Decimal

    from studio.core.chain.plan import MintPlan, SplitEntry

    asset = ctx.library.list_assets()[0]
    plan = MintPlan(asset_id=asset.id, title="Rings at dusk", new_collection=("Studio Works",
                                                                              "WORK"),
                    royalty_percent=Decimal("5"),
                    split=(SplitEntry(me, Decimal(70), "me"),
                           SplitEntry(friend, Decimal(30), "collaborator")))
    async with ctx.chain_session() as session:
        return await session.mint(plan)


def _save(widget, path: Path) -> None:
    from PIL import Image
    from PySide6.QtCore import QBuffer, QIODevice

    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    widget.grab().save(buf, "PNG")
    img = Image.open(io.BytesIO(bytes(buf.data()))).convert("RGB")
    img.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def main() -> int:
    os.environ.setdefault("STUDIO_KEYRING_SERVICE", f"studio-screens-{uuid.uuid4().hex[:8]}")
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv)
    from studio.app import create_context, create_window
    from studio.core.paths import resolve_paths
    from studio.ui.sections import SECTIONS

    paths = resolve_paths().ensure()
    ctx = create_context(paths)
    ctx.settings.ui.theme = "light"
    account = ctx.wallet.create_account("creator")
    ctx.wallet.set_active(account.address)
    friend = ctx.wallet.create_account("collaborator")
    from studio.core.importing.service import ImportService

    ImportService.for_paths(ctx.library, paths.cache_dir).import_paths(
        _sample_images(paths.cache_dir / "samples"))
    asyncio.run(ctx.fund(account.address, 100 * 10**18))
    minted = asyncio.run(_mint(ctx, account.address, friend.address))

    win = create_window(ctx)
    win.show()
    for spec in SECTIONS:
        win.show_section(spec.key)
    OUT.mkdir(parents=True, exist_ok=True)

    def settle(ms: int = 600) -> None:
        import time

        end = time.monotonic() + ms / 1000
        while time.monotonic() < end:
            app.processEvents()

    settle(1500)
    settings = win.page("settings")
    for theme in ("dark", "light"):  # each after a live switch from the other one
        win.show_section("settings")
        settings.theme.setCurrentIndex(settings.theme.findData(theme))
        settle()
        for w, h in SIZES:
            win.resize(w, h)
            for spec in SECTIONS:
                win.show_section(spec.key)
                if spec.key == "library":
                    page = win.page("library")
                    page.view.setCurrentIndex(page.model.index(0))
                settle(900)
                _save(win, OUT / f"{spec.key}-{theme}-{w}x{h}.png")
            # The Mint dialog over the window (a second sample: the first is minted).
            from studio.ui.mint_dialog import MintDialog

            win.show_section("library")
            other = next(a for a in ctx.library.list_assets() if a.id != minted.asset_id)
            dialog = MintDialog(ctx, other, win)
            dialog.add_recipient(friend.address, "collaborator", "30")
            dialog.show()
            settle(900)
            _save(dialog, OUT / f"mint-dialog-{theme}-{w}x{h}.png")
            dialog.close()
    win.close()
    ctx.stop_sandbox()
    total = sum(p.stat().st_size for p in OUT.glob("*.png"))
    print(f"{len(list(OUT.glob('*.png')))} screenshots, {total / 1e6:.2f} MB in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
