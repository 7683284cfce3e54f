"""Qt widgets of the main window."""
