"""What every diffusers backend shares: loading, placement, seeds, previews, frame plumbing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from engine.backends.fit import fit_image, write_png
from engine.devices import DeviceSettings
from engine.errors import ModelFolderError
from engine.models.validate import ComponentReport, FolderReport


def load_pipeline(cls: Any, path: str, settings: DeviceSettings, **components: Any) -> Any:
    """Load a pipeline from a local folder, safetensors only, never touching the network.

    Folders that hold only a weights variant (``*.fp16.safetensors``, as IF and SDXL-Turbo
    ship) are loaded with that variant; a half-precision variant is preferred when the device
    runs in half precision anyway.
    """
    from engine.models.validate import validate_model_folder

    skip = tuple(name for name, value in components.items() if value is None)
    report = validate_model_folder(path, skip=skip)
    variants = report.loadable_variants
    half = settings.torch_dtype() in (torch.float16, torch.bfloat16)
    if None in variants and not (half and "fp16" in variants):
        variant = None
    else:
        variant = "fp16" if "fp16" in variants else (variants[0] if variants else None)
    # Tokenizers first, each on its own: inside from_pretrained a broken one surfaces as KeyError('added_tokens')
    # or a bare Exception from the tokenizers library, with nothing saying which component failed.
    components = {**_load_tokenizers(report, components), **components}
    try:
        pipe = cls.from_pretrained(
            path,
            dtype=settings.torch_dtype(),
            use_safetensors=True,
            local_files_only=True,
            variant=variant,
            **components,
        )
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise ModelFolderError(
            f"{Path(path).name} could not be loaded as a {getattr(cls, '__name__', cls)} ({exc}); "
            "check that the folder is a complete diffusers download"
        ) from None
    place(pipe, settings)
    return pipe


def _load_tokenizers(report: FolderReport, given: dict[str, Any]) -> dict[str, Any]:
    """The folder's transformers tokenizers that the caller didn't supply, loaded the way diffusers would."""
    wanted = [
        c for c in report.components if c.role == "tokenizer" and c.library == "transformers" and c.name not in given
    ]
    if not wanted:
        return {}
    import transformers

    loaded: dict[str, Any] = {}
    for component in wanted:
        try:
            tokenizer_cls = getattr(transformers, component.class_name, None)
        except (ImportError, RuntimeError):
            tokenizer_cls = None
        if tokenizer_cls is None or not hasattr(tokenizer_cls, "from_pretrained"):
            continue  # a class this transformers lacks: from_pretrained says so itself
        folder = report.path / component.name
        try:
            loaded[component.name] = tokenizer_cls.from_pretrained(str(folder), local_files_only=True)
        except Exception as exc:  # the tokenizers library raises plain Exception; any failure here is the tokenizer's
            raise ModelFolderError(_tokenizer_failure(folder, component, exc)) from exc
    return loaded


def _tokenizer_failure(folder: Path, component: ComponentReport, exc: Exception) -> str:
    text = str(exc).strip()
    detail = f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__
    if "tiktoken" in text:
        # transformers tries tiktoken after SentencePiece fails and reports only that second failure, whose
        # advice (install tiktoken) misleads for a T5-style folder: say what came first.
        detail = f"its vocabulary file didn't load as SentencePiece, and then not as tiktoken either ({detail})"
    try:
        files = ", ".join(sorted(p.name for p in folder.iterdir() if p.is_file())) or "no files"
    except OSError:
        files = "unreadable"
    return (
        f"The tokenizer in {folder} (component '{component.name}', {component.class_name}) could not be loaded: "
        f"{detail}. Its files ({files}) are incomplete or damaged; re-download the model, or copy the complete "
        f"'{component.name}' folder from where the model came from."
    )


# Pipeline components that do the denoising: the ones worth storing in fp8.
DENOISERS = ("transformer", "transformer_2", "unet")


def place(pipe: Any, settings: DeviceSettings) -> None:
    device = settings.resolve_device()
    if settings.fp8_storage and device == "cuda":
        for name in DENOISERS:
            model = getattr(pipe, name, None)
            if model is not None and hasattr(model, "enable_layerwise_casting"):
                model.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=settings.torch_dtype())
    if settings.group_offload and device == "cuda":
        # Leaf-level groups with a copy stream: layers arrive on the GPU just before they run.
        pipe.enable_group_offload(
            onload_device=torch.device("cuda"), offload_type="leaf_level", use_stream=True, non_blocking=True
        )
    elif settings.cpu_offload and device == "cuda":
        # Only the sub-model in use sits on the GPU: VRAM of the largest one instead of all.
        pipe.enable_model_cpu_offload()
    else:
        pipe.to(device)
    vae = getattr(pipe, "vae", None)
    if settings.vae_tiling and vae is not None and hasattr(vae, "enable_tiling"):
        vae.enable_tiling()
    if hasattr(pipe, "set_progress_bar_config"):
        pipe.set_progress_bar_config(disable=True)


@contextmanager
def whole_vae_tiles(vae: Any, width: int, height: int) -> Iterator[None]:
    """Keep a tiled VAE from cutting a one-latent-row strip off the edge of a frame.

    Diffusers' LTX VAEs tile with a fixed stride (448 px of a 512 px tile, 14 of 16 latent rows);
    a frame whose latent size is one more than a multiple of it (480 px: 15 rows) leaves a last
    tile one row high, and LTX-2's reflect padding fails on it. For the length of one render the
    stride is shortened just enough that the last tile has at least two rows.
    """
    ratio = int(getattr(vae, "spatial_compression_ratio", 0) or 0)
    names = ("tile_sample_stride_height", "tile_sample_stride_width")
    if not getattr(vae, "use_tiling", False) or not ratio or not all(hasattr(vae, n) for n in names):
        yield
        return
    saved = tuple(getattr(vae, n) for n in names)
    for name, pixels in zip(names, (height, width), strict=True):
        size, stride = pixels // ratio, getattr(vae, name) // ratio
        while stride > 2 and size > stride and (size - 1) % stride == 0:
            stride -= 1
        setattr(vae, name, stride * ratio)
    try:
        yield
    finally:
        for name, value in zip(names, saved, strict=True):
            setattr(vae, name, value)


def module_bytes(*pipes: Any) -> int:
    """Bytes held by the parameters and buffers of every torch module in the pipelines."""
    seen: set[int] = set()
    total = 0
    for pipe in pipes:
        if pipe is None:
            continue
        for component in getattr(pipe, "components", {}).values():
            if isinstance(component, torch.nn.Module) and id(component) not in seen:
                seen.add(id(component))
                for tensor in [*component.parameters(), *component.buffers()]:
                    total += tensor.numel() * tensor.element_size()
    return total


def seeded(seed: int) -> torch.Generator:
    # A CPU generator gives the same noise on every device, so a seed means the same picture.
    return torch.Generator("cpu").manual_seed(seed)


def to_uint8(images: np.ndarray) -> np.ndarray:
    """[0, 1] floats (any leading dims, channels last) to uint8."""
    return (np.clip(images, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


PREVIEW_LONG_SIDE = 160  # what the jobs panel shows (the runtime's thumbnail size): latents are far smaller


def latent_preview(latents: torch.Tensor, long_side: int = PREVIEW_LONG_SIDE) -> np.ndarray:
    """A cheap, readable look at latents: the middle frame as a picture of ``long_side`` pixels.

    No VAE decode (that would cost a real share of a step on big models). The latent channels
    are projected on their own principal components: the strongest becomes brightness, the next
    two a faint colour, so composition and motion read like a desaturated photo whatever the
    model's channel layout (Wan has 16 channels, LTX 128). Then it is scaled up smoothly from the
    latent grid (a 32x smaller LTX latent is 24x14) to a size a person can read.
    """
    x = latents.detach()
    if x.ndim == 5:  # (B, C, F, H, W)
        x = x[0, :, x.shape[2] // 2]
    elif x.ndim == 4:  # (B, C, H, W)
        x = x[0]
    # One frame is small; moved to the CPU, where torch's own thread pool (already warm from the
    # denoising) does the little linear algebra: numpy's BLAS threads would fight torch's for the cores.
    rgb = _principal_rgb(x.float().cpu())
    return _enlarge(to_uint8(rgb), long_side)


def _principal_rgb(grid: torch.Tensor) -> np.ndarray:
    """(C, H, W) latents to (H, W, 3) floats in [0, 1]: first component as luma, next two as chroma."""
    channels, height, width = grid.shape
    flat = grid.reshape(channels, -1).double()
    flat = flat - flat.mean(dim=1, keepdim=True)
    if channels >= 2:
        vectors = _top_components(flat @ flat.T, min(3, channels))
        # An eigenvector's sign is arbitrary; fixing it keeps the picture from flipping between previews.
        vectors = vectors * torch.where(vectors.sum(dim=0) < 0, -1.0, 1.0).double()
        parts = vectors.T @ flat
    else:
        parts = flat
    if len(parts) < 3:
        parts = torch.cat([parts, parts.new_zeros(3 - len(parts), parts.shape[1])])
    lo, hi = torch.quantile(parts, torch.tensor([0.02, 0.98], dtype=parts.dtype), dim=1)
    luma = ((parts[0] - lo[0]) / (hi[0] - lo[0]).clamp(min=1e-6)).clamp(0, 1)
    spread = torch.maximum(lo[1:].abs(), hi[1:].abs())[:, None].clamp(min=1e-6)
    cb, cr = 0.2 * (parts[1:] / spread).clamp(-1, 1)  # faint: the hues are not the real ones
    rgb = torch.stack([luma + 1.402 * cr, luma - 0.344 * cb - 0.714 * cr, luma + 1.772 * cb], dim=-1)
    return rgb.reshape(height, width, 3).numpy()


def _top_components(cov: torch.Tensor, count: int, iterations: int = 12) -> torch.Tensor:
    """The ``count`` strongest eigenvectors of a covariance, strongest first, by subspace iteration.

    A full eigendecomposition of LTX's 128x128 covariance costs ~5 ms and spikes far higher when
    the cores are busy; a dozen products with a 128x3 block cost a fraction of that, and a preview needs
    the picture's main directions, not eight exact digits. The start is fixed, so it is repeatable.
    """
    start = torch.linspace(-1, 1, cov.shape[0], dtype=cov.dtype)[:, None] ** torch.arange(count)[None]
    basis = start + 1e-3  # never all zero, even for a one-channel start column
    for _ in range(iterations):
        basis = _orthonormal(cov @ basis)
    strength = ((cov @ basis) * basis).sum(dim=0)  # Rayleigh quotients: order strongest first
    return basis[:, strength.argsort(descending=True)]


def _orthonormal(block: torch.Tensor) -> torch.Tensor:
    """Gram-Schmidt on a few columns: for three vectors, cheaper than a LAPACK call and its threads."""
    columns: list[torch.Tensor] = []
    for column in block.T:
        for done in columns:
            column = column - (column @ done) * done
        columns.append(column / column.norm().clamp(min=1e-12))
    return torch.stack(columns, dim=1)


def _enlarge(rgb: np.ndarray, long_side: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    scale = long_side / max(height, width)
    if scale <= 1:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC)


class StepCounter:
    """A ``callback_on_step_end`` that reports steps across every pipeline call of one job.

    Raising from it (the reporter does on cancel) stops the denoising loop within one step;
    ``preview(pipe, latents)`` is only paid for on the steps whose preview will be shown.
    """

    def __init__(self, reporter: Any, total: int, preview: Any = None) -> None:
        self.reporter = reporter
        self.total = total
        self.preview = preview or (lambda pipe, latents: latent_preview(latents))
        self.done = 0

    def __call__(self, pipe: Any, i: int, t: Any, kwargs: dict) -> dict:
        self.done += 1
        image = self.preview(pipe, kwargs["latents"]) if self.reporter.wants_preview(self.done, self.total) else None
        self.reporter.step(self.done, self.total, image)
        return {}


def pixel_preview(images: torch.Tensor) -> np.ndarray:
    """A (B, 3, H, W) sample in [-1, 1] (pixel-space models like IF) as an RGB image."""
    x = (images[0].detach().float() / 2 + 0.5).clamp(0, 1)
    return (x.permute(1, 2, 0).cpu().numpy() * 255 + 0.5).astype(np.uint8)


def fit_frames(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    if frames.shape[1:3] == (height, width):
        return frames
    return np.stack([fit_image(f, width, height)[0] for f in frames])


def save_keyframe(
    rgb: np.ndarray,
    job: Any,
    path: Path,
    *,
    seed: int,
    backend: str,
    spec: Any,
    steps: int,
    guidance: float,
    generated: tuple[int, int],
    made: str,
) -> Any:
    """Fit a generated picture to the project frame, write it, and record how it was made."""
    from engine.jobs import KeyframeResult

    fitted, note = fit_image(rgb, job.width, job.height)
    write_png(path, fitted)
    return KeyframeResult(
        path=str(path),
        seed=seed,
        width=job.width,
        height=job.height,
        backend=backend,
        model_id=spec.model_id,
        model_revision=spec.revision,
        steps=steps,
        guidance=guidance,
        generated_width=generated[0],
        generated_height=generated[1],
        fit=f"{made}; {note}" if note else made,
    )
