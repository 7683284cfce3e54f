"""The Qt binding twin runs on must not leak references: the window calls Qt methods
tens of thousands of times a minute, for days in a trade-show loop."""

from __future__ import annotations

import sys

import pytest

pytestmark = pytest.mark.gui


def test_qt_calls_keep_the_reference_count_of_none(qtbot):
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(20_000):
        label.setText("x")  # returns None to Python
    # other threads may hold a few references for a moment; a leak loses one per call
    assert abs(sys.getrefcount(None) - before) < 1_000
