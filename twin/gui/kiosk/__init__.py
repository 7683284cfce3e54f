"""Trade-show kiosk mode: a narrated, full-screen tour of the twin that runs for days.

``story`` (the TOML script and its checks), ``show`` (the loop, the hand-over to visitors,
recovery from failures) and ``camera`` (eased flights) import no GUI toolkit; ``_qt``
holds the window and its overlay; ``app`` starts it all (``twin kiosk``).
"""
