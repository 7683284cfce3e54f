"""Light and dark themes: a Qt palette, a little style sheet, and the 3D scene's colours."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from twin.gui._vispy.base import DARK_SCENE, LIGHT_SCENE, ScenePalette


@dataclass(frozen=True, slots=True)
class Theme:
    name: str
    window: str
    base: str
    panel: str
    text: str
    muted: str
    accent: str
    warning: str
    alarm: str
    border: str
    scene: ScenePalette

    def palette(self) -> QPalette:
        palette = QPalette()
        roles = {
            QPalette.ColorRole.Window: self.window,
            QPalette.ColorRole.WindowText: self.text,
            QPalette.ColorRole.Base: self.base,
            QPalette.ColorRole.AlternateBase: self.panel,
            QPalette.ColorRole.Text: self.text,
            QPalette.ColorRole.Button: self.panel,
            QPalette.ColorRole.ButtonText: self.text,
            QPalette.ColorRole.ToolTipBase: self.panel,
            QPalette.ColorRole.ToolTipText: self.text,
            QPalette.ColorRole.Highlight: self.accent,
            QPalette.ColorRole.HighlightedText: "#ffffff",
            QPalette.ColorRole.PlaceholderText: self.muted,
        }
        for role, color in roles.items():
            palette.setColor(role, QColor(color))
        palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(self.muted))
        palette.setColor(
            QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(self.muted)
        )
        return palette

    def style_sheet(self) -> str:
        return f"""
        QFrame#kpiStrip {{ background: {self.panel}; border-bottom: 1px solid {self.border}; }}
        QLabel#kpiTitle {{ color: {self.muted}; font-size: 8pt; }}
        QLabel#kpiValue {{ font-size: 13pt; font-weight: 600; }}
        QLabel#kpiValue[level="warning"] {{ color: {self.warning}; }}
        QLabel#kpiValue[level="alarm"] {{ color: {self.alarm}; }}
        QLabel#inspectorTitle {{ font-size: 12pt; font-weight: 600; }}
        QLabel#muted {{ color: {self.muted}; }}
        QLabel#alarmText {{ color: {self.alarm}; font-weight: 600; }}
        QToolBar {{ spacing: 6px; border-bottom: 1px solid {self.border}; }}
        QStatusBar QLabel {{ color: {self.muted}; padding: 0 8px; }}
        """

    def apply(self, app: QApplication) -> None:
        app.setPalette(self.palette())
        sheet = self.style_sheet()
        if app.styleSheet() != sheet:  # Qt restyles every widget on a set: ~0.5 s
            app.setStyleSheet(sheet)


LIGHT = Theme(
    name="light",
    window="#eef1f4",
    base="#ffffff",
    panel="#f7f9fb",
    text="#1d2733",
    muted="#5d6b7a",
    accent="#1f6fd1",
    warning="#b26a00",
    alarm="#c62828",
    border="#cdd5de",
    scene=LIGHT_SCENE,
)
DARK = Theme(
    name="dark",
    window="#1b2129",
    base="#12171d",
    panel="#222a33",
    text="#e3e9f0",
    muted="#8d9aa8",
    accent="#3d8bfd",
    warning="#ffb74d",
    alarm="#ff5252",
    border="#323c47",
    scene=DARK_SCENE,
)
THEMES = {theme.name: theme for theme in (LIGHT, DARK)}
