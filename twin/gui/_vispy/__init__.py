"""vispy adapters: one per kind of thing drawn, each updated from snapshots on the GUI thread."""
