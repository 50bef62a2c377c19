"""The standalone build's collection lists, checked against the code and the installed packages.

No PyInstaller run here (that takes minutes: packaging/build.sh builds and smoke-tests). These
catch the mistakes that only show in a frozen app: a resource found beside the source, an
excluded module the app imports at start-up, package metadata or an OTIO adapter file that
the spec would not collect, a prune pattern that would drop something the app loads.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.util
import json
import sys
from importlib import resources
from pathlib import Path

import pytest

from app import paths

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ("app", "engine", "ui")


def load_contents():
    # Loaded by path: a top-level 'packaging' import would find the PyPI package of that name.
    spec = importlib.util.spec_from_file_location("bundle_contents", ROOT / "packaging" / "bundle_contents.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


contents = load_contents()


def code_files() -> list[Path]:
    return [ROOT / "main.py", *(p for d in CODE_DIRS for p in sorted((ROOT / d).rglob("*.py")))]


def test_resources_are_found_in_the_bundle_when_frozen(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.resources_dir() == tmp_path / "resources"


def test_resources_are_found_beside_the_code_in_a_checkout(monkeypatch):
    monkeypatch.delattr(sys, "frozen", raising=False)
    found = paths.resources_dir()
    assert found == ROOT / "resources"
    for needed in ("demo/demo.json", "fonts/DejaVuSans.ttf", "fonts/DejaVuSans-Bold.ttf", "icons/pinframe.svg"):
        assert (found / needed).is_file(), needed
    assert contents.DATA_FOLDERS == ("resources",), "the spec bundles resources/ where resources_dir() looks"


def test_no_code_builds_its_own_path_to_resources():
    """Every lookup goes through app.paths.resources_dir(), the one place that knows the frozen layout."""
    offenders = []
    for path in code_files():
        if path == ROOT / "app" / "paths.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ("__file__" in line and "resources" in line) or '/ "resources"' in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "use app.paths.resources_dir():\n" + "\n".join(offenders)


def module_level_imports(tree: ast.Module) -> set[str]:
    """Imports that run when the module is imported (not inside a function body)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.add(child.module)
            visit(child)

    visit(tree)
    return found


def all_imports(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def excluded(name: str) -> str | None:
    for ex in contents.EXCLUDED_MODULES:
        if name == ex or name.startswith(ex + "."):
            return ex
    return None


def test_excluded_modules_are_never_imported_and_optional_ones_only_lazily():
    anywhere: dict[str, set[str]] = {}
    at_import: dict[str, set[str]] = {}
    for path in code_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = str(path.relative_to(ROOT))
        for name in all_imports(tree):
            if excluded(name):
                anywhere.setdefault(excluded(name), set()).add(rel)
        for name in module_level_imports(tree):
            if excluded(name):
                at_import.setdefault(excluded(name), set()).add(rel)
    assert set(anywhere) <= contents.OPTIONAL_MODULES, f"the app imports modules the build leaves out: {anywhere}"
    # An optional module imported at module level would stop the frozen app from starting.
    assert not at_import, f"optional modules imported at module level: {at_import}"


def test_package_metadata_covers_the_runtime_and_leaves_out_ray_and_dev_tools():
    dists = {contents.canonical(d) for d in contents.runtime_distributions()}
    for needed in ("torch", "diffusers", "transformers", "accelerate", "huggingface-hub", "safetensors",
                   "opentimelineio", "otio-fcp-adapter", "otio-cmx3600-adapter", "otio-aaf-adapter", "pyaaf2",
                   "pyside6-addons", "av", "opencv-python-headless"):  # fmt: skip
        assert needed in dists, needed
    for left_out in ("ray", "pytest", "pytest-qt", "ruff", "lxml"):
        assert left_out not in dists, f"{left_out} would be bundled"


def test_otio_adapters_the_export_uses_are_found_and_their_files_are_in_their_packages():
    """OTIO loads each adapter from the file its manifest names, so that file must be in the collected package."""
    plugins = contents.otio_plugins()
    adapters = {}
    for module in plugins:
        manifest = json.loads((resources.files(module) / "plugin_manifest.json").read_text(encoding="utf-8"))
        for adapter in manifest.get("adapters", []):
            assert (resources.files(module) / adapter["filepath"]).is_file(), adapter
            adapters[adapter["name"]] = module
    assert {"fcp_xml", "cmx_3600", "AAF"} <= set(adapters), adapters


@pytest.mark.parametrize(
    "needed",
    [
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqwayland.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/Qt/plugins/multimedia/libffmpegmediaplugin.so",
        "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
        "PySide6/Qt/plugins/imageformats/libqjpeg.so",
        "PySide6/Qt/lib/libQt6Quick.so.6",  # the multimedia plugin links it
        "torch/lib/libtorch_cpu.so",
        "torch/bin/torch_shm_manager",
        "torch/testing/_internal/logging_tensor.py",  # torch.utils.checkpoint imports it
    ],
)
def test_pruning_keeps_what_the_app_loads(needed):
    assert not [p for p in contents.PRUNED_FILES if fnmatch.fnmatch(needed, p)]


def test_the_spec_is_valid_python():
    source = (ROOT / "packaging" / "pinframe.spec").read_text(encoding="utf-8")
    compile(source, "pinframe.spec", "exec")
