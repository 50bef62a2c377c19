"""From a ModelSpec to a loaded backend: validate the folder, then load the pipeline.

Which code loads which backend is read from :mod:`engine.backend_registry`; nothing here names
a backend.
"""

from __future__ import annotations

from pathlib import Path

from engine.backend_registry import get_backend
from engine.devices import DeviceSettings
from engine.errors import ModelFolderError
from engine.jobs import ModelSpec


def load_backend(spec: ModelSpec, settings: DeviceSettings):
    """Load what ``spec`` names. ML folders are validated first so a bad folder names its file."""
    try:
        info = get_backend(spec.backend)
    except ValueError as exc:
        raise ModelFolderError(str(exc)) from None
    if not info.needs_model:
        return info.load_class()()
    if not spec.path:
        raise ModelFolderError(f"the {info.display_name} backend needs a model folder; add one in Models")
    from engine.models.validate import validate_model_folder

    # Validate before importing diffusers: a bad folder fails fast and names its file.
    validate_model_folder(spec.path)
    if spec.upscale_path and info.upscaler is not None:
        upscale = Path(spec.upscale_path).expanduser()
        if (upscale / "config.json").is_file() and not (upscale / "model_index.json").exists():
            validate_bare_model(upscale)  # one model, as LTX-2 ships its latent_upsampler/
        else:
            # A second stage folder is checked as a whole except a text encoder it never loads
            # (IF stage II reuses stage I's prompt embeddings).
            validate_model_folder(spec.upscale_path, skip=("text_encoder",))
    if spec.stage3_path:
        validate_model_folder(spec.stage3_path)  # the x4 upscaler: a whole pipeline with its own text encoder
    return info.load_class().load(spec, settings)


def validate_bare_model(folder: str | Path) -> str:
    """Check a folder that holds one model (config.json and safetensors weights); return its class name.

    The same checks as a pipeline folder's component: a missing config, missing, truncated or only
    pickled weights raise a ModelFolderError naming the file.
    """
    from engine.models.validate import _check_component, _read_json

    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ModelFolderError(f"Model folder {root} doesn't exist. Check the path, or add the model again.")
    config = _read_json(root / "config.json", what="the model's config")
    class_name = config.get("_class_name") if isinstance(config, dict) else None
    if not isinstance(class_name, str) or not class_name:
        raise ModelFolderError(
            f'{root / "config.json"} has no "_class_name", so Pinframe can\'t tell which model it is. Re-download it.'
        )
    _check_component(root.parent, root.name, "diffusers", class_name)
    return class_name


def estimate_bytes(spec: ModelSpec) -> int:
    """Weights on disk approximate memory once loaded (same dtype); good enough to evict first."""
    total = 0
    for folder in (spec.path, spec.upscale_path, spec.stage3_path):
        if folder and Path(folder).is_dir():
            total += sum(p.stat().st_size for p in Path(folder).rglob("*.safetensors"))
    return total
