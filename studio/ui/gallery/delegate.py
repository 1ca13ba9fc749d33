"""Paints one gallery tile: thumbnail, title, and badges for credentials and minted works."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from studio.ui.gallery.loader import ICON_SIZE
from studio.ui.gallery.model import AssetRole, MintedRole

TILE = QSize(ICON_SIZE.width() + 24, ICON_SIZE.height() + 48)


class GalleryDelegate(QStyledItemDelegate):
    def sizeHint(self, option: QStyleOptionViewItem,
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        return TILE

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = option.rect.adjusted(4, 4, -4, -4)
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        if selected:
            painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
        elif hovered:
            painter.setBrush(palette.color(QPalette.ColorRole.AlternateBase))
        else:
            painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRoundedRect(rect, 8, 8)

        icon_box = QRect(rect.left() + (rect.width() - ICON_SIZE.width()) // 2, rect.top() + 6,
                         ICON_SIZE.width(), ICON_SIZE.height())
        pix = index.data(Qt.ItemDataRole.DecorationRole)
        if pix is not None and not pix.isNull():
            x = icon_box.left() + (icon_box.width() - pix.width()) // 2
            y = icon_box.top() + (icon_box.height() - pix.height()) // 2
            painter.drawPixmap(x, y, pix)
        else:
            painter.setBrush(palette.color(QPalette.ColorRole.Mid))
            painter.drawRoundedRect(icon_box.adjusted(20, 20, -20, -20), 6, 6)

        text_rect = QRect(rect.left() + 6, icon_box.bottom() + 6, rect.width() - 12, 24)
        role = (QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        painter.setPen(palette.color(role))
        title = option.fontMetrics.elidedText(str(index.data() or ""),
                                              Qt.TextElideMode.ElideMiddle, text_rect.width())
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, title)

        asset = index.data(AssetRole)
        badges = []
        if asset is not None and asset.manifest_label:
            badges.append(("CR", QColor(30, 110, 200)))  # C2PA "content credentials" mark
        if index.data(MintedRole):
            badges.append(("Minted", QColor(170, 90, 20)))
        self._badges(painter, icon_box, badges)
        painter.restore()

    def _badges(self, painter: QPainter, box: QRect, badges: list[tuple[str, QColor]]) -> None:
        font = QFont(painter.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.8))
        font.setBold(True)
        painter.setFont(font)
        x = box.left() + 4
        for text, colour in badges:
            width = painter.fontMetrics().horizontalAdvance(text) + 12
            r = QRect(x, box.top() + 4, width, 18)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(r, 9, 9)
            painter.setPen(QColor("white"))
            painter.drawText(r, Qt.AlignmentFlag.AlignCenter, text)
            x += width + 4
