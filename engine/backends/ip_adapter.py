"""Reference pictures through an IP-Adapter: the same character or look in every keyframe.

The IP-Adapter is the known model ``ip-adapter`` (h94/IP-Adapter, engine.models.registry.IP_ADAPTER_MODEL):
a folder with weight files for several UNets (``models/ip-adapter_sd15.safetensors`` for Stable Diffusion 1.x,
``sdxl_models/ip-adapter_sdxl_vit-h.safetensors`` for SDXL) and the CLIP image encoder they read pictures
with (``models/image_encoder``). Which weight file fits a model is read from the files' safetensors headers
(the width of their cross-attention keys against the UNet's ``cross_attention_dim``), never guessed from
names, so a file that fits no loaded model is named with the model it does fit.

Several references go in together as one adapter's pictures: diffusers encodes each and sets their image
tokens side by side, so every reference steers. An adapter has one scale, so the job runs at the mean of
the references' scales (a director gives most references the same weight; the mean keeps one weak
reference from switching the others off).

The adapter's weights are on for one job and unloaded after it, so the next job renders exactly as the
model does without it (a UNet with an IP-Adapter refuses to run without a picture). The image encoder, the
big part, stays loaded between jobs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import EngineError, ModelFolderError

# A folder laid out like h94/IP-Adapter, for a copy outside the Hugging Face cache (an offline machine).
FOLDER_VARIABLE = "PINFRAME_IP_ADAPTER"
SUBFOLDERS = ("models", "sdxl_models")
# Which model a cross-attention width means, for notes and messages.
CROSS_ATTENTION_MODELS = {768: "Stable Diffusion 1.x", 1024: "Stable Diffusion 2.x", 2048: "SDXL"}
_KEY = "ip_adapter.1.to_k_ip.weight"  # [hidden, cross_attention_dim] in every IP-Adapter file
INSTALL_HINT = (
    "download h94/IP-Adapter (models/image_encoder, models/ip-adapter_sd15.safetensors, "
    "sdxl_models/ip-adapter_sdxl_vit-h.safetensors) into the Hugging Face cache, or set PINFRAME_IP_ADAPTER to a "
    "folder laid out like it"
)


@dataclass(frozen=True)
class AdapterFile:
    """One IP-Adapter weight file of the folder and what it fits."""

    root: Path
    subfolder: str
    weight_name: str
    cross_attention_dim: int
    image_embed_dim: int  # what the image encoder must project to

    @property
    def title(self) -> str:
        return Path(self.weight_name).stem

    def fits_text(self) -> str:
        model = CROSS_ATTENTION_MODELS.get(self.cross_attention_dim)
        width = f"cross-attention width {self.cross_attention_dim}"
        return f"{model} ({width})" if model else f"a model with {width}"


def model_name(pipe: Any, fallback: str) -> str:
    return f"{fallback} ({type(pipe).__name__})" if fallback else type(pipe).__name__


def cross_attention_dim(pipe: Any) -> int | None:
    """The UNet's text width, or None for pipelines without a UNet (FLUX, SD3: no IP-Adapter here)."""
    unet = getattr(pipe, "unet", None)
    if unet is None or not hasattr(pipe, "load_ip_adapter"):
        return None
    dim = unet.config.cross_attention_dim
    return int(dim[0] if isinstance(dim, list | tuple) else dim)


def installed_folder() -> Path | None:
    """The IP-Adapter folder on this machine: PINFRAME_IP_ADAPTER, else the downloaded known model."""
    given = os.environ.get(FOLDER_VARIABLE, "")
    if given:
        return Path(given).expanduser()
    from engine.models.registry import IP_ADAPTER_MODEL, find_in_cache

    status = find_in_cache(IP_ADAPTER_MODEL)
    return status.path if status.complete else None


def adapter_files(root: Path) -> list[AdapterFile]:
    """Every IP-Adapter weight file under ``root``'s subfolders, read from their headers only."""
    from engine.models.validate import read_safetensors_header

    found = []
    for subfolder in SUBFOLDERS:
        folder = root / subfolder
        if not folder.is_dir():
            continue
        for file in sorted(folder.glob("*.safetensors")):
            header = read_safetensors_header(file)
            key, proj = header.get(_KEY), header.get("image_proj.proj.weight")
            if not isinstance(key, dict) or not isinstance(proj, dict):
                continue  # an image encoder, or an adapter kind Pinframe doesn't drive (plus, face ID)
            found.append(AdapterFile(root, subfolder, file.name, int(key["shape"][1]), int(proj["shape"][1])))
    return found


def check_folder(root: str | Path) -> None:
    """Raise ModelFolderError unless ``root`` holds at least one IP-Adapter file and an encoder for it."""
    root = Path(root)
    files = adapter_files(root)
    if not files:
        raise ModelFolderError(
            f"{root} holds no IP-Adapter weights (models/*.safetensors or sdxl_models/*.safetensors with "
            "image_proj and ip_adapter tensors); download the IP-Adapter again"
        )
    for file in files:
        encoder_folder(file)


def encoder_folder(adapter: AdapterFile) -> str:
    """The image encoder subfolder whose projection width the adapter reads (models/image_encoder: ViT-H)."""
    for subfolder in (adapter.subfolder, *SUBFOLDERS):
        config = adapter.root / subfolder / "image_encoder" / "config.json"
        try:
            width = json.loads(config.read_text(encoding="utf-8")).get("projection_dim")
        except (OSError, ValueError):
            continue
        if width == adapter.image_embed_dim:
            return f"{subfolder}/image_encoder"
    raise ModelFolderError(
        f"{adapter.root} has no image encoder projecting to {adapter.image_embed_dim} for {adapter.weight_name} "
        "(models/image_encoder/config.json); download the IP-Adapter again"
    )


def choose_adapter(root: Path, pipe: Any, model: str) -> AdapterFile:
    """The weight file that fits ``pipe``; EngineError naming what each file fits when none does."""
    dim = cross_attention_dim(pipe)
    if dim is None:
        raise EngineError(
            f"references not used: {model} takes no IP-Adapter in Pinframe (Stable Diffusion 1.x and SDXL models do)"
        )
    files = adapter_files(root)
    for file in files:
        if file.cross_attention_dim == dim:
            return file
    fits = "; ".join(f"{f.weight_name} fits {f.fits_text()}" for f in files) or "it holds no IP-Adapter weights"
    raise EngineError(
        f"references not used: no IP-Adapter in {root} fits {model}, whose cross-attention width is {dim}; {fits}. "
        "Download the IP-Adapter for this model, or make the keyframe with a model it fits"
    )


def read_references(paths: Iterable[str]) -> list[Any]:
    """Reference pictures as PIL images, each checked from its header before it is decoded."""
    from PIL import Image

    from engine.backends.fit import read_rgb

    images = []
    for path in paths:
        if not Path(path).is_file():  # read_rgb would call it a keyframe; this is a reference the director attached
            raise EngineError(f"reference image {path} is missing; relink it or remove it from the shot's references")
        images.append(Image.fromarray(read_rgb(path)))
    return images


class JobReferences:
    """The IP-Adapter of one pipeline family: weights on for a job with references, the encoder kept."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.encoder: Any = None  # the CLIP image encoder, loaded once
        self.encoder_folder = ""
        self.loads = 0  # adapter weight files read

    @contextmanager
    def active(self, pipe: Any, references: Sequence[tuple[str, float]]) -> Iterator[tuple[dict[str, Any], str]]:
        """The pipeline call's IP-Adapter arguments and a note for the take; ({}, why not) when none is used."""
        if not references:
            yield {}, ""
            return
        images = read_references(path for path, _ in references)
        root = installed_folder()
        if root is None:
            yield {}, f"references not used: no IP-Adapter is installed ({INSTALL_HINT})"
            return
        try:
            adapter = choose_adapter(root, pipe, model_name(pipe, self.model))
            self._load(pipe, adapter)
        except (EngineError, ModelFolderError) as exc:
            yield {}, str(exc)
            return
        scale = sum(weight for _, weight in references) / len(references)
        try:
            pipe.set_ip_adapter_scale(scale)
            count = f"{len(images)} reference picture{'s' if len(images) != 1 else ''}"
            yield {"ip_adapter_image": [images]}, f"{count} through IP-Adapter {adapter.title} at scale {scale:g}"
        finally:
            self._unload(pipe)

    def _load(self, pipe: Any, adapter: AdapterFile) -> None:
        folder = encoder_folder(adapter)
        if self.encoder is not None and folder == self.encoder_folder:
            pipe.register_modules(image_encoder=self.encoder)  # load_ip_adapter reuses a registered encoder
        try:
            pipe.load_ip_adapter(
                str(adapter.root),
                subfolder=adapter.subfolder,
                weight_name=adapter.weight_name,
                image_encoder_folder=folder,
                local_files_only=True,
            )
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            text = " ".join(str(exc).split())[:300]
            raise EngineError(
                f"references not used: the IP-Adapter {adapter.weight_name} (for {adapter.fits_text()}) didn't load "
                f"into {model_name(pipe, self.model)} ({text})"
            ) from None
        self.encoder, self.encoder_folder = pipe.image_encoder, folder
        self.loads += 1

    def _unload(self, pipe: Any) -> None:
        # Restores the UNet's own attention; drops the encoder from the pipeline but not from here.
        pipe.unload_ip_adapter()

    def close(self) -> None:
        self.encoder = None
