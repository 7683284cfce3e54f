"""What the About dialog says: twin's version and the libraries it runs on, with their
licences as the installed packages declare them (one source of truth: the metadata)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, metadata

from twin import __version__

RUNTIME_PACKAGES = (
    "numpy",
    "PySide6-Essentials",
    "shiboken6",
    "vispy",
    "PyOpenGL",
    "pyqtgraph",
    "pydantic",
    "CoolProp",
    "pyarrow",
    "platformdirs",
)


def package_licences() -> list[tuple[str, str, str]]:
    """(name, version, licence) of each runtime package; "not installed" where missing."""
    rows = []
    for name in RUNTIME_PACKAGES:
        try:
            meta = metadata(name)
        except PackageNotFoundError:
            rows.append((name, "—", "not installed"))
            continue
        classifiers = [
            c.rsplit(" :: ", 1)[-1]
            for c in meta.get_all("Classifier") or []
            if c.startswith("License ::")
        ]
        licence = (
            # an email.message.Message at run time; typeshed's PackageMetadata lacks get
            meta.get("License-Expression")  # type: ignore[attr-defined]
            or ", ".join(classifiers)
            or (meta.get("License") or "").strip().split("\n")[0]  # type: ignore[attr-defined]
        )
        rows.append((name, meta["Version"], licence or "see the package"))
    return rows


def about_html() -> str:
    rows = "".join(
        f"<tr><td>{name}</td><td>{version}</td><td>{licence}</td></tr>"
        for name, version, licence in package_licences()
    )
    return (
        f"<h3>twin {__version__}</h3>"
        "<p>A desktop digital twin of an AI factory: GPU halls, cooling plant, power "
        "chain and robot workcells, simulated and shown live in 3D.</p>"
        "<p>Licence: Apache-2.0.</p>"
        "<p>Built on:</p><table cellspacing='6'>"
        "<tr><th align='left'>package</th><th align='left'>version</th>"
        f"<th align='left'>licence</th></tr>{rows}</table>"
    )
