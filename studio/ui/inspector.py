"""The inspector: an asset's content credentials, following the C2PA UX levels.

Level 1 is a badge (AI-generated, edited with AI, camera-captured, no credentials, invalid), level 2
a summary (signer, app, date, thumbnail), level 3 the detail (actions, ingredient tree,
generation parameters, wallet binding, validation failures in plain words). The report is read
on a pool thread; a newer selection makes older results stale, and they are dropped.
"""

from __future__ import annotations

import html
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from studio.core.library.models import Asset, AssetOrigin
from studio.ui.context import AppContext
from studio.ui.text import short_address

log = logging.getLogger(__name__)

_BADGE_COLOURS = {
    "AI-generated": "#6b4fd8",
    "Edited with AI": "#8a5cd0",
    "Computer-generated (not AI)": "#4f6fd8",
    "Credentials not checked": "#8a6d1e",
    "Camera-captured": "#2f7d4f",
    "Content credentials": "#2f6d9d",
    "No credentials": "#6f6f6f",
    "Invalid credentials": "#b3261e",
}


def _read_for(ctx: AppContext, asset: Asset, fetch_remote: bool = False):
    """The report and the mint rows of ``asset``, read off the GUI thread (c2pa, SQLite)."""
    report = ctx.read_credentials(ctx.library.path_of(asset), fetch_remote=fetch_remote)
    return report, _minted_rows(ctx, asset)


class ElidedLabel(QLabel):
    """A one-line value that never widens the panel: elided in the middle to fit, the full
    text in its tooltip, copied to the clipboard on click."""

    def __init__(self, text: str, *, display: str | None = None, tooltip: str = "") -> None:
        super().__init__()
        self.full_text, self.display = text, display or text
        self.setToolTip(tooltip or f"{text}\n(click to copy)")
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setText(self.display)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.setText(self.fontMetrics().elidedText(self.display, Qt.TextElideMode.ElideMiddle,
                                                   max(self.width(), 20)))

    def mousePressEvent(self, event) -> None:
        from PySide6.QtWidgets import QApplication, QToolTip

        QApplication.clipboard().setText(self.full_text)
        QToolTip.showText(event.globalPosition().toPoint(), "Copied", self)
        super().mousePressEvent(event)


def short_token(token_id: int | str) -> str:
    """A token id (often 78 digits: a sha256) as short hex: ``0x1a2b3c4d…9e8f``."""
    h = f"{int(token_id):x}"
    return f"0x{h}" if len(h) <= 14 else f"0x{h[:8]}…{h[-6:]}"


def _recover_for(ctx: AppContext, asset: Asset) -> _Recovered:
    """A file with no manifest: where its studio watermark leads (core/provenance/recovery.py),
    with the original's token when the studio minted it. Blocking (decodes the pixels)."""
    rec = ctx.recover_credentials(ctx.library.path_of(asset))
    token = None
    if rec.found and rec.minted:
        from studio.core.chain.mintstore import MintStore

        mint = MintStore(ctx.library).minted_for_asset(rec.asset_id)
        token = mint.token_id if mint else None
    return _Recovered(rec, token)


class _Recovered:
    def __init__(self, recovery: Any, token_id: Any) -> None:
        self.recovery, self.token_id = recovery, token_id


class _Signer(tuple):
    """(DER certificate, description): the signer "Trust this signer…" asks about."""


class InspectorPanel(QWidget):
    """Shows one asset's metadata and credentials. ``show_asset(None)`` clears it."""

    report_ready = Signal(object)  # the ProvenanceReport shown (tests and the gallery listen)
    attested = Signal(object)  # the new Asset made by "Attest..."
    recovered = Signal(object)  # the Recovery of a file without credentials (its watermark)
    # (Recovery, TokenInfo | None): the active chain's answer for a watermark this library
    # did not issue (emitted only when it was asked)
    chain_checked = Signal(object, object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.asset: Asset | None = None
        self.report = None
        self._request = 0
        self._minted_shown = False
        self.setMinimumWidth(280)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        # Never sideways: long values are elided (full text in the tooltip, click copies).
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        self._layout = QVBoxLayout(body)
        self._layout.setContentsMargins(12, 12, 12, 12)
        scroll.setWidget(body)
        outer.addWidget(scroll)

        self.heading = QLabel("Nothing selected")
        self.heading.setObjectName("inspectorHeading")
        self.heading.setStyleSheet("font-size: 16px; font-weight: 600;")
        self.heading.setWordWrap(True)
        self.badge = QLabel()
        self.badge.setObjectName("provenanceBadge")
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.badge.hide()
        self.state_label = QLabel()
        self.state_label.setWordWrap(True)

        self.thumbnail = QLabel()
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumbnail.hide()
        self.summary = QFormLayout()
        self.summary.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.basic = QFormLayout()

        self.details = QTreeWidget()
        self.details.setHeaderLabels(["Detail", "Value"])
        self.details.setColumnWidth(0, 150)
        self.details.setMinimumHeight(220)
        self.details.setAlternatingRowColors(True)
        self.details.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.details.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.details.header().setStretchLastSection(True)
        self.details.hide()

        buttons = QHBoxLayout()
        self.attest_button = QPushButton("Attest…")
        self.attest_button.setToolTip(
            "Write a signed copy whose credentials name this file as its source (Ctrl+Shift+A)."
            " The original stays as it is.")
        self.attest_button.clicked.connect(self._attest)
        self.attest_button.hide()
        self.copy_button = QPushButton("Copy report")
        self.copy_button.setToolTip("Copy the full report as JSON")
        self.copy_button.clicked.connect(self._copy_json)
        self.copy_button.hide()
        self.fetch_button = QPushButton("Fetch credentials")
        self.fetch_button.clicked.connect(self._fetch_remote)
        self.fetch_button.hide()
        self.trust_button = QPushButton("Trust this signer…")
        self.trust_button.setToolTip("Make files signed with this exact certificate read "
                                     "Trusted on this computer.")
        self.trust_button.clicked.connect(self._trust_signer)
        self.trust_button.hide()
        buttons.addWidget(self.attest_button)
        buttons.addWidget(self.fetch_button)
        buttons.addWidget(self.trust_button)
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        QShortcut(QKeySequence("Ctrl+Shift+A"), self, activated=self._attest_shortcut,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

        self._layout.addWidget(self.heading)
        self._layout.addLayout(self.basic)
        self._layout.addWidget(self.badge)
        self._layout.addWidget(self.state_label)
        self._layout.addWidget(self.thumbnail)
        self._layout.addLayout(self.summary)
        self._layout.addWidget(self.details, 1)
        self._layout.addLayout(buttons)
        self._layout.addStretch(0)

    # -- public -----------------------------------------------------------------------------

    def show_asset(self, asset: Asset | None) -> None:
        self._request += 1
        self._minted_shown = False
        self.asset, self.report = asset, None
        self._clear()
        if asset is None:
            self.heading.setText("Nothing selected")
            return
        self.heading.setText(asset.title or asset.original_name or f"Asset {asset.id}")
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(asset.created_at))
        size = f"{asset.width} × {asset.height}" if asset.width and asset.height else "—"
        for key, value in (("Origin", asset.origin.value.capitalize()), ("Type", asset.media_type),
                           ("Size", size), ("File size", _bytes(asset.size)),
                           ("Added", when), ("SHA-256", asset.sha256[:16] + "…")):
            self.basic.addRow(key, _value(value))
        self.state_label.setText("Checking content credentials…")
        self._run(lambda: _read_for(self.ctx, asset), "Reading content credentials")

    # -- worker plumbing --------------------------------------------------------------------

    def _run(self, fn: Callable[[], Any], label: str = "") -> None:
        request = self._request
        (self.ctx.runner.run(fn, label=label)
         .success(lambda result: self._on_done(request, result))
         .failure(lambda exc: self._on_failed(request, str(exc) or type(exc).__name__))
         .start())

    def _on_done(self, request: int, result: Any) -> None:
        if request != self._request or not isValid(self):
            return  # a newer selection replaced this one (or the panel is gone)
        if isinstance(result, Asset):
            self._on_attested(result)
            return
        if isinstance(result, _Signer):
            self._confirm_trust(result)
            return
        if isinstance(result, _Recovered):
            self._show_recovery(result)
            return
        report, minted = result
        if not self._minted_shown:  # a re-read (fetch, trust) keeps the rows it has
            self._minted_shown = True
            for key, value in minted:
                self.basic.addRow(key, _token_value(value) if key == "Token"
                                  else _value(value))
        self.report = report
        self._show_report(report)
        self.report_ready.emit(report)

    def _on_failed(self, request: int, message: str) -> None:
        if request != self._request or not isValid(self):
            return
        self.attest_button.setEnabled(True)
        self.state_label.setText(f"<span style='color:#b3261e'>{html.escape(message)}</span>")

    # -- rendering --------------------------------------------------------------------------

    def _clear(self) -> None:
        for form in (self.basic, self.summary):
            while form.rowCount():
                form.removeRow(0)
        self.badge.hide()
        self.thumbnail.hide()
        self.details.clear()
        self.details.hide()
        self.state_label.clear()
        self.attest_button.hide()
        self.fetch_button.hide()
        self.trust_button.hide()
        self.copy_button.hide()

    def _show_report(self, report) -> None:
        badge = str(report.badge)
        self.badge.setText(badge)
        self.badge.setStyleSheet(
            f"background: {_BADGE_COLOURS.get(badge, '#6f6f6f')}; color: white; "
            "border-radius: 10px; padding: 4px 12px; font-weight: 600;")
        self.badge.show()
        self.state_label.setText((report.error and f"The file could not be read: {report.error}")
                                 or report.state_text)
        self.copy_button.setVisible(report.state.value != "unreadable")
        self.attest_button.setVisible(self.asset is not None
                                      and self.asset.origin is AssetOrigin.IMPORTED)
        self.attest_button.setEnabled(True)
        state = report.state.value
        self.fetch_button.setVisible(state == "remote" and self.asset is not None)
        if report.remote_url:
            self.fetch_button.setToolTip(f"Contacts {report.remote_url}")
        self.trust_button.setVisible(state == "valid" and self.asset is not None)
        self.trust_button.setEnabled(True)
        if report.thumbnail:
            pix = QPixmap()
            if pix.loadFromData(report.thumbnail):
                self.thumbnail.setPixmap(pix.scaled(
                    240, 240, Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation))
                self.thumbnail.show()
        if state == "none" and self.asset is not None:
            self.state_label.setText(f"{report.state_text}. Looking for a studio watermark…")
            self._recover(self.asset)
        if not report.has_credentials:
            return
        rows = [("Signed by", report.signer), ("Issued by", report.issuer),
                ("App", report.claim_generator), ("Signed", report.signed_at_text())]
        if report.attestation:
            from studio.core.provenance.verdict import wallet_text

            short = short_address(str(report.attestation.get("address")), head=8, tail=6)
            rows.append(("Wallet", wallet_text(report, short)))
        for key, value in rows:
            if value:
                self.summary.addRow(key, _value(value))
        self._fill_details(report)

    def _recover(self, asset: Asset) -> None:
        # A decode takes a second or more: skipped when the selection moved on (or the panel
        # closed) before the runner got to it.
        request = self._request

        def job():
            if request != self._request or not isValid(self):
                return None
            return _recover_for(self.ctx, asset)

        self._run(job, "Looking for a watermark")

    def closeEvent(self, event) -> None:
        self._request += 1  # queued watermark decodes for this panel are skipped
        super().closeEvent(event)

    def _show_recovery(self, found: _Recovered) -> None:
        rec = found.recovery
        self.state_label.setText(rec.summary(found.token_id))
        if rec.found:
            rows = [("Original", f"{rec.original_title} (asset {rec.asset_id})"),
                    ("Signed by", rec.signer), ("Token", found.token_id),
                    ("Watermark", f"{rec.watermark_id:08x}")]
            for key, value in rows:
                if value is not None:
                    self.summary.addRow(key, _token_value(str(value)) if key == "Token"
                                        else _value(str(value)))
        self.recovered.emit(rec)
        if rec.payload is not None and rec.source != "library" and self.asset is not None:
            self._chain_lookup(rec, self.ctx.library.path_of(self.asset))

    def _chain_lookup(self, rec: Any, path: Any) -> None:
        """Ask the active chain for the token whose mint recorded this watermark (the
        original is in another library); the runner's loop does the RPC, not this widget."""
        request = self._request
        profile = self.ctx.profile()
        if not self.ctx.is_running(profile):
            return  # the Sandbox is not started just to look
        self.state_label.setText(rec.summary() + f" Looking on {profile.name}…")

        def done(token: Any) -> None:
            if request != self._request or not isValid(self):
                return
            self._show_chain_token(rec, token, profile.name)

        def failed(exc: BaseException) -> None:
            if request != self._request or not isValid(self):
                return
            self.state_label.setText(rec.summary() + f" ({profile.name} could not be asked: "
                                     f"{exc or type(exc).__name__})")
            self.chain_checked.emit(rec, None)

        (self.ctx.runner.run_async(lambda: self.ctx.find_watermark_token(rec, path, profile),
                                   label="Looking for its token")
         .success(done).failure(failed).start())

    def _show_chain_token(self, rec: Any, token: Any, chain_name: str) -> None:
        if token is None:
            self.state_label.setText(rec.summary())
        else:
            self.state_label.setText(
                f"No credentials in this file; its watermark {rec.watermark_id:08x} leads to "
                f"token {short_token(token.token_id)} on {chain_name} (the signed original is "
                "in another library; the token's metadata names it).")
            for key, value in (("Token", str(token.token_id)),
                               ("Collection", f"{token.collection_name} ({token.collection})"),
                               ("Owner", token.owner), ("Token URI", token.token_uri),
                               ("Watermark", f"{rec.watermark_id:08x}")):
                self.summary.addRow(key, _token_value(value) if key == "Token"
                                    else _value(value))
        self.chain_checked.emit(rec, token)

    def _fill_details(self, report) -> None:
        tree = self.details
        if report.failures:
            node = _node(tree, "Problems", str(len(report.failures)))
            for text in report.failures:
                _node(node, "✘", text)
            node.setExpanded(True)
        if report.ingredient_failures:
            node = _node(tree, "Source file problems", str(len(report.ingredient_failures)))
            for text in report.ingredient_failures:
                _node(node, "✘", text)
            node.setExpanded(True)
        if report.actions:
            node = _node(tree, "Actions", str(len(report.actions)))
            for a in report.actions:
                child = _node(node, a.get("action", "?").removeprefix("c2pa."),
                              _agent(a.get("softwareAgent")))
                if a.get("digitalSourceType"):
                    _node(child, "Source type", a["digitalSourceType"].rsplit("/", 1)[-1])
            node.setExpanded(True)
        if report.ingredients:
            node = _node(tree, "Ingredients", str(len(report.ingredients)))
            for ing in report.ingredients:
                _ingredient_node(node, ing)
            node.setExpanded(True)
        if report.generation:
            node = _node(tree, "Generation", "")
            _dict_nodes(node, report.generation)
            tree.expandItem(node)
            for i in range(node.childCount()):  # the request (prompt, steps...) matters most
                node.child(i).setExpanded(True)
        if report.attestation:
            att = report.attestation
            node = _node(tree, "Wallet binding", {
                "matches": "signature matches the signer",
                "unverifiable": "cannot be checked"}.get(att.get("status", ""),
                                                         "does not match"))
            for key in ("address", "reason", "spki_sha256", "issued_at"):
                if att.get(key):
                    _node(node, key.replace("_", " "), str(att[key]))
            node.setExpanded(True)
        if report.training_mining:
            node = _node(tree, "AI training & mining", "")
            _dict_nodes(node, report.training_mining)
        if report.manifest_label:
            _node(tree, "Manifest", report.manifest_label)
        tree.setVisible(tree.topLevelItemCount() > 0)

    # -- actions ----------------------------------------------------------------------------

    def _copy_json(self) -> None:
        from PySide6.QtWidgets import QApplication

        if self.report is not None:
            data = self.report.to_json()
            data["thumbnail"] = bool(data["thumbnail"])
            QApplication.clipboard().setText(json.dumps(data, indent=2, default=str))

    def _attest_shortcut(self) -> None:
        if self.attest_button.isVisible() and self.attest_button.isEnabled():
            self._attest()

    def _attest(self) -> None:
        asset = self.asset
        if asset is None or asset.origin is not AssetOrigin.IMPORTED:
            return
        answer = QMessageBox.question(
            self, "Attest this file",
            "Write a new, signed copy of this file whose credentials name it as the source?\n\n"
            "The copy is signed with your signing identity and your active wallet; the "
            "original stays in the library unchanged.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.attest_button.setEnabled(False)
        self.state_label.setText("Signing a copy…")
        self._request += 1
        self._run(lambda: _attest_asset(self.ctx, asset), "Attesting")

    def _fetch_remote(self) -> None:
        asset = self.asset
        if asset is None:
            return
        self.fetch_button.setEnabled(False)
        self.state_label.setText("Fetching the remote credentials…")
        self._request += 1
        self._run(lambda: _read_for(self.ctx, asset, fetch_remote=True))

    def _trust_signer(self) -> None:
        asset = self.asset
        if asset is None:
            return
        self.trust_button.setEnabled(False)
        self._request += 1
        self._run(lambda: _signer_for(self.ctx, asset))

    def _confirm_trust(self, signer: _Signer) -> None:
        from studio.core.provenance.trust import TRUST_SIGNER_MEANING

        der, described = signer
        answer = QMessageBox.question(self, "Trust this signer",
                                      f"{described}\n\n{TRUST_SIGNER_MEANING}")
        if answer != QMessageBox.StandardButton.Yes or self.asset is None:
            self.trust_button.setEnabled(True)
            return
        asset = self.asset
        self._request += 1
        self._run(lambda: _trust_and_reread(self.ctx, asset, der))

    def _on_attested(self, new_asset: Asset) -> None:
        self.ctx.emit(self.ctx.events.asset_added, new_asset.id)
        self.attested.emit(new_asset)
        self.show_asset(new_asset)


def _signer_for(ctx: AppContext, asset: Asset) -> _Signer:
    from studio.core.provenance.trust import signer_of_file

    return _Signer(signer_of_file(ctx.library.path_of(asset)))


def _trust_and_reread(ctx: AppContext, asset: Asset, der: bytes):
    from studio.core.provenance.trust import trust_signer

    trust_signer(ctx.paths, ctx.settings.provenance, der)
    ctx.save_settings()
    return _read_for(ctx, asset)


def _attest_asset(ctx: AppContext, asset: Asset) -> Asset:
    from studio.core.provenance.attest import attest_asset

    return attest_asset(ctx.paths, ctx.settings, ctx.library, asset)


def _node(parent, key: str, value: str) -> QTreeWidgetItem:
    item = QTreeWidgetItem(parent, [key, value])
    item.setToolTip(1, value)
    return item


def _dict_nodes(parent: QTreeWidgetItem, data: Any) -> None:
    if isinstance(data, dict):
        for k, v in data.items():
            if isinstance(v, dict | list):
                _dict_nodes(_node(parent, str(k), ""), v)
            else:
                _node(parent, str(k), str(v))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            if isinstance(v, dict | list):
                _dict_nodes(_node(parent, f"[{i}]", ""), v)
            else:
                _node(parent, f"[{i}]", str(v))


def _ingredient_node(parent: QTreeWidgetItem, ing) -> None:
    extra = f" · signed by {ing.signer}" if ing.signer else ""
    node = _node(parent, ing.relationship, f"{ing.title}{extra}")
    for child in ing.children:
        _ingredient_node(node, child)
    node.setExpanded(True)


def _agent(agent: Any) -> str:
    if isinstance(agent, dict):
        return f"{agent.get('name', '')} {agent.get('version', '')}".strip()
    return str(agent or "")


def _bytes(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _value(text: str) -> QLabel:
    return ElidedLabel(str(text))


def _token_value(token_id: str) -> QLabel:
    return ElidedLabel(str(token_id), display=short_token(token_id),
                       tooltip=f"Token id {token_id}\n= {int(token_id):#x}\n(click to copy)")


def _minted_rows(ctx: AppContext, asset: Asset) -> list[tuple[str, str]]:
    """Chain, token id and royalty split of a minted asset (from the mint workflow's record)."""
    if getattr(asset, "id", None) is None:
        return []
    from studio.core.chain.mintstore import MintStore

    rec = MintStore(ctx.library).minted_for_asset(asset.id)
    if rec is None:
        return []
    split = ", ".join(f"{e.get('label') or e['address'][:10] + '…'} "
                      f"{int(e['allocation']) / 10_000:g} %" for e in rec.split)
    return [("Chain", f"{rec.profile} (chain {rec.chain_id})"),
            ("Token", f"{rec.token_id}"), ("Collection", rec.collection or "—"),
            ("Royalty", f"{rec.royalty_bps / 100:g} % to {rec.royalty_receiver or '—'}"),
            ("Split", split)]
