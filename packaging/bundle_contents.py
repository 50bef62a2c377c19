"""What the standalone build collects and what it leaves out, in plain Python.

pinframe.spec reads this (PyInstaller runs the spec with the build venv's Python); it is
kept apart from the spec so tests/packaging/ can check the lists against the code and the
installed packages without running PyInstaller. No PyInstaller import here.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENTRY_SCRIPT = ROOT / "main.py"
REQUIREMENTS = ROOT / "requirements.txt"
# Copied whole to the same relative place: app.paths.resources_dir() finds it under sys._MEIPASS.
DATA_FOLDERS = ("resources",)

# requirements.txt entries the standalone build leaves out, and why. Ray is the render farm's
# (~240 MB with grpc): studios that run a farm install from source anyway, and without it
# engine.farm says so in one line (`render --ray` exits with that message).
LEFT_OUT_REQUIREMENTS = {"ray": "render farm only; install from source with requirements.txt to use --ray"}

# Imported only where an ImportError is handled (engine/farm/executor.py says what to install).
OPTIONAL_MODULES = frozenset({"ray"})

# Modules never imported by the app, or only by development tools, tests and benchmarks.
# PyInstaller follows imports, so most of these would only come in through some library's
# optional import; naming them keeps the folder lean and the intent visible.
EXCLUDED_MODULES = (
    *sorted(OPTIONAL_MODULES),
    # this repository's own non-app folders
    "tests",
    "benchmarks",
    # test and lint tools (requirements-dev.txt); lxml only validates exports in tests
    "pytest",
    "_pytest",
    "pytestqt",
    "pytest_timeout",
    "xdist",
    "execnet",
    "pluggy",
    "iniconfig",
    "ruff",
    "lxml",
    # other GUI toolkits and notebook tooling that libraries import optionally
    "tkinter",
    "_tkinter",
    "IPython",
    "jupyter_client",
    "notebook",
    "matplotlib",
    # torch's TensorBoard writer (torch.testing._internal stays: torch.utils.checkpoint imports it)
    "torch.utils.tensorboard",
    "tensorboard",
    # package installers: nothing installs packages into a frozen app
    "pip",
)

# Files dropped after analysis (glob patterns on the path inside the bundle): things that
# come in with a package but that the app never loads. Measured on the first build: torch's
# C++ test programs alone were 130 MB.
PRUNED_FILES = (
    # torch's C++ tests, their data, test libraries and a protobuf compiler
    "torch/test/*",
    "torch/bin/test_*",
    "torch/bin/*Test",
    "torch/bin/protoc*",
    "torch/bin/*.pt",
    "torch/bin/*.ptl",
    "torch/bin/upgrader_models/*",
    "torch/lib/lib*_test.so",
    "torch/lib/libaoti_custom_ops.so",
    "torch/lib/libbackend_with_compiler.so",
    # Qt platforms for embedded devices (no window system) and their input/EGL plugins
    "PySide6/Qt/plugins/platforms/libqeglfs.so",
    "PySide6/Qt/plugins/platforms/libqlinuxfb.so",
    "PySide6/Qt/plugins/platforms/libqminimalegl.so",
    "PySide6/Qt/plugins/platforms/libqvkkhrdisplay.so",
    "PySide6/Qt/plugins/platforms/libqvnc.so",
    "PySide6/Qt/plugins/egldeviceintegrations/*",
    "PySide6/Qt/plugins/generic/*",
    "PySide6/Qt/lib/libQt6EglFS*",
    # on-screen keyboard for kiosks (pulls QtVirtualKeyboard)
    "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so",
    "PySide6/Qt/lib/libQt6VirtualKeyboard*",
    # PDF as an image format (pulls QtPdf); the app writes PDFs with Pillow and never reads them
    "PySide6/Qt/plugins/imageformats/libqpdf.so",
    "PySide6/Qt/lib/libQt6Pdf.so*",
    # QtNetwork's TLS and network-status plugins: the app makes no network calls through Qt
    "PySide6/Qt/plugins/tls/*",
    "PySide6/Qt/plugins/networkinformation/*",
)

# OpenTimelineIO finds adapter plugins through these entry points (package metadata), then
# runs each adapter from the .py file its plugin_manifest.json names. A frozen app keeps
# neither unless collected: see otio_plugins() and the spec.
OTIO_PLUGIN_GROUP = "opentimelineio.plugins"


def _requirement_name(line: str) -> str | None:
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return None
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
    return match.group(0) if match else None


def canonical(name: str) -> str:
    """PEP 503 name, so 'PySide6_Essentials' and 'pyside6-essentials' compare equal."""
    return re.sub(r"[-_.]+", "-", name).lower()


def top_requirements(requirements: Path = REQUIREMENTS) -> list[str]:
    """requirements.txt's distributions, less LEFT_OUT_REQUIREMENTS, plus torch (dev.sh installs it)."""
    left_out = {canonical(n) for n in LEFT_OUT_REQUIREMENTS}
    names = [n for n in map(_requirement_name, requirements.read_text().splitlines()) if n]
    return ["torch", *(n for n in names if canonical(n) not in left_out)]


def runtime_distributions(requirements: Path = REQUIREMENTS) -> list[str]:
    """Every installed distribution the app's requirements pull in (markers evaluated, extras not).

    Their metadata goes into the bundle: diffusers and transformers decide which backends
    exist by reading package versions, and OpenTimelineIO reads entry points.
    """
    from packaging.requirements import Requirement

    seen: dict[str, str] = {}
    stack = top_requirements(requirements)
    while stack:
        name = stack.pop()
        key = canonical(name)
        if key in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional dependency this platform doesn't install
        seen[key] = dist.metadata["Name"]
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                stack.append(req.name)
    return sorted(seen.values(), key=canonical)


def otio_plugins() -> dict[str, str]:
    """The installed OpenTimelineIO plugin packages: top-level module -> distribution name."""
    plugins = {}
    for entry in metadata.entry_points(group=OTIO_PLUGIN_GROUP):
        if entry.dist is None:
            raise RuntimeError(f"OpenTimelineIO plugin {entry.name} has no distribution metadata")
        plugins[entry.module.split(".")[0]] = entry.dist.metadata["Name"]
    return plugins
