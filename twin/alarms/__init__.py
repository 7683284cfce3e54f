"""Alarm management after ISA-18.2 / IEC 62682: definitions on simulated points, the
engine (states, deadbands, delays, shelving, suppression by design, flood detection) and
the SQLite journal. Qt-free: the GUI only renders the engine's immutable summaries."""

from twin.alarms.definitions import (
    AlarmPoint,
    Condition,
    Limit,
    Priority,
    SuppressedTarget,
    SuppressionRule,
    default_points,
    default_suppression,
)
from twin.alarms.engine import (
    SCAN_INTERVAL_S,
    AlarmEngine,
    AlarmKey,
    AlarmState,
    AlarmSummary,
    AlarmView,
    FloodStatus,
    scan_every_steps,
)
from twin.alarms.journal import (
    AlarmJournal,
    JournalError,
    JournalRow,
    read_journal,
    read_metadata,
)

__all__ = [
    "SCAN_INTERVAL_S",
    "AlarmEngine",
    "AlarmJournal",
    "AlarmKey",
    "AlarmPoint",
    "AlarmState",
    "AlarmSummary",
    "AlarmView",
    "Condition",
    "FloodStatus",
    "JournalError",
    "JournalRow",
    "Limit",
    "Priority",
    "SuppressedTarget",
    "SuppressionRule",
    "default_points",
    "default_suppression",
    "read_journal",
    "read_metadata",
    "scan_every_steps",
]
