"""The desktop window: a vispy 3D view of the site in a PySide6 main window.

``_vispy`` holds one adapter per kind of thing drawn, each fed by snapshots; ``_qt``
holds the widgets; ``runner`` steps the simulation off the GUI thread; ``app`` starts
it all. Nothing here is imported by ``twin.sim`` or ``twin.scenario``.
"""
