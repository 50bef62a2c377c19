"""The models Pinframe knows on the Hub: what each is, where it lives, what it needs.

One table (BUILTIN_MODELS) read by the Models dialog, the CLI, the farm and the loader through
:mod:`engine.models.registry`, which adds the user's own folders and reads the Hub cache.
Sizes and VRAM figures are approximate. Nothing here touches the network or the disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from huggingface_hub import constants

# What a model is for; a backend's main model or the second stage of one (FolderKind.model_kind), a
# LoRA a motion backend loads for some shots ("motion-lora": one safetensors file, not a pipeline folder),
# or the IP-Adapter text-to-image keyframes read reference pictures with ("ip-adapter": weight files and an
# image encoder laid out like h94/IP-Adapter, not a pipeline folder; engine.backends.ip_adapter).
ModelKind = Literal["keyframe", "keyframe-upscale", "draft", "motion", "motion-upscale", "motion-lora", "ip-adapter"]
KINDS: tuple[str, ...] = get_args(ModelKind)

_GB = 1_000_000_000

# What a diffusers repo needs: the pipeline index, each component's configs and tokenizer
# files, and safetensors weights inside component folders. The `*/` prefix keeps out the
# single-file checkpoints many repos also carry at their root (ComfyUI/A1111 formats).
DIFFUSERS_FILES: tuple[str, ...] = (
    "model_index.json",
    "*/config.json",
    "*/*_config.json",  # scheduler_config, tokenizer_config, preprocessor_config...
    "*/special_tokens_map.json",
    "*/added_tokens.json",
    "*/tokenizer.json",
    "*/vocab.json",
    "*/merges.txt",
    "*/vocab.txt",
    "*/spiece.model",
    "*/tokenizer.model",
    "*/*.safetensors",
    "*/*.safetensors.index*.json",
)
# A LoRA repo: its weights file at the root and the model card; LORA_EXCLUDE keeps out subfolders (`*`
# crosses `/` in these patterns).
LORA_FILES: tuple[str, ...] = ("*.safetensors", "README.md")
LORA_EXCLUDE: tuple[str, ...] = ("*/*",)
# Never fetched, whatever a model's patterns say: pickles can run code, the rest Pinframe can't load.
ALWAYS_EXCLUDED: tuple[str, ...] = (
    "*.bin",
    "*.pt",
    "*.pth",
    "*.ckpt",
    "*.pkl",
    "*.pickle",
    "*.msgpack",
    "*.h5",
    "*.onnx",
    "*.onnx_data",
    "*.gguf",
)


@dataclass(frozen=True)
class KnownModel:
    """A model Pinframe can download from the Hub. Sizes and VRAM figures are approximate."""

    id: str  # short id used in the app and the CLI
    repo_id: str
    revision: str
    kind: ModelKind
    pipeline: str  # diffusers class name used to load it
    files: tuple[str, ...]  # glob patterns (fnmatch, `*` crosses `/`) of repo files to fetch
    size_bytes: int  # approximate download size of the selected files
    vram_gb: float  # approximate need at fp16/bf16 with everything on the GPU
    vram_gb_offload: float  # approximate need with diffusers' model CPU offload
    licence: str
    gated: bool  # the Hub asks the user to accept the licence before downloading
    non_commercial: bool
    notes: str = ""
    exclude: tuple[str, ...] = ()  # patterns removed after `files`, on top of ALWAYS_EXCLUDED
    # Weight variant fetched and to pass as `variant=` when loading; components without it
    # fall back to their plain weights, as diffusers does.
    variant: str | None = None
    # The engine backend (engine.backend_registry) that runs it, or whose second stage it is.
    backend: str = ""
    # A camera LoRA: the move it makes, by its canonical name in engine.camera_move.MOVES ("dolly in").
    camera_move: str = ""

    @property
    def page_url(self) -> str:
        return f"{constants.ENDPOINT}/{self.repo_id}"


_IF_NOTES = (
    "Accept the DeepFloyd IF licence on the model page first (accepting it for IF-I-XL covers the other IF "
    "models). Load with variant='fp16'. "
)


def _camera_lora(name: str, camera_move: str, what: str) -> KnownModel:
    """One of Lightricks' camera-control LoRAs for LTX-2 19B (``name`` as in its repo: "Dolly-In")."""
    return KnownModel(
        id=f"ltx-2-camera-{name.lower()}",
        repo_id=f"Lightricks/LTX-2-19b-LoRA-Camera-Control-{name}",
        revision="main",
        kind="motion-lora",
        pipeline="LTX2ConditionPipeline",
        backend="ltx2",
        files=LORA_FILES,
        exclude=LORA_EXCLUDE,
        size_bytes=round(0.33 * _GB),
        vram_gb=0.4,
        vram_gb_offload=0.4,
        licence="LTX-2 Community License Agreement",
        gated=False,
        non_commercial=False,
        camera_move=camera_move,
        notes=f"Camera-control LoRA for LTX-2 19B: {what}. An LTX-2 render of a shot whose camera move is "
        f"'{camera_move}' loads it for that shot only, once it is downloaded. Made for LTX-2 19B (the ltx-2 model), "
        "not for other LTX versions; under the base model's licence. Size and VRAM (what it adds to LTX-2's) are "
        "estimates.",
    )


# Which shot moves get a LoRA (engine.camera_move names; its synonyms too: "push in" is a dolly in). A truck
# is a sideways dolly, a crane a jib. Pans, tilts and zooms turn or zoom the camera where these LoRAs move it,
# so they get none; nor do handheld, steadicam and orbit. Every move still reaches the prompt.
CAMERA_LORAS: tuple[KnownModel, ...] = (
    _camera_lora("Dolly-In", "dolly in", "the camera pushes towards the subject"),
    _camera_lora("Dolly-Out", "dolly out", "the camera pulls back, revealing more of the scene"),
    _camera_lora("Dolly-Left", "truck left", "the camera slides sideways to the left, with parallax"),
    _camera_lora("Dolly-Right", "truck right", "the camera slides sideways to the right, with parallax"),
    _camera_lora("Jib-Up", "crane up", "the camera rises"),
    _camera_lora("Jib-Down", "crane down", "the camera descends"),
    _camera_lora("Static", "static", "a locked-off camera that doesn't drift"),
)

# The IP-Adapter text-to-image keyframes read reference pictures with (engine.backends.ip_adapter): listed and
# downloaded beside the text-to-image models, never offered as a model to make pictures with (is_companion).
IP_ADAPTER_MODEL: KnownModel = KnownModel(
    id="ip-adapter",
    repo_id="h94/IP-Adapter",
    revision="main",
    kind="ip-adapter",
    pipeline="IP-Adapter",
    backend="text2image",  # the backend that reads references through it
    files=(
        "models/image_encoder/config.json",
        "models/image_encoder/model.safetensors",
        "models/ip-adapter_sd15.safetensors",
        "sdxl_models/ip-adapter_sdxl_vit-h.safetensors",
    ),
    size_bytes=round(3.3 * _GB),
    vram_gb=1.5,
    vram_gb_offload=1.5,
    licence="Apache-2.0",
    gated=False,
    non_commercial=False,
    notes="Reference pictures (characters, places, a look) for text-to-image keyframes on Stable Diffusion 1.x "
    "and SDXL models: the IP-Adapter weights for both and the ViT-H CLIP image encoder they share. Used only "
    "for shots with references; FLUX and other transformer models don't take it. Size (encoder ~2.5 GB, SDXL "
    "adapter ~0.7 GB, SD 1.x adapter ~45 MB) and VRAM (what it adds) are estimates.",
)


def is_companion(model: KnownModel) -> bool:
    """A model others use (a second stage, a camera LoRA, the IP-Adapter), never one chosen to make pictures."""
    return model.kind.endswith("-upscale") or model.kind in ("motion-lora", "ip-adapter")


BUILTIN_MODELS: tuple[KnownModel, ...] = (
    KnownModel(
        id="if-i-xl",
        repo_id="DeepFloyd/IF-I-XL-v1.0",
        revision="main",
        kind="keyframe",
        pipeline="IFPipeline",
        backend="if",
        files=DIFFUSERS_FILES,
        size_bytes=round(18.8 * _GB),
        vram_gb=22.0,
        vram_gb_offload=14.0,
        licence="DeepFloyd IF License Agreement",
        gated=True,
        non_commercial=True,
        variant="fp16",
        notes=_IF_NOTES
        + "Stage I, 4.3B-parameter pixel UNet at 64x64 plus the T5-XXL text encoder. Size is an estimate "
        "(fp16 UNet 8.6 GB + fp16 T5 ~9.5 GB + safety checker 0.6 GB); 14 GB VRAM with CPU offload is the "
        "model card's figure, the rest are estimates.",
    ),
    KnownModel(
        id="if-i-m",
        repo_id="DeepFloyd/IF-I-M-v1.0",
        revision="main",
        kind="keyframe",
        pipeline="IFPipeline",
        backend="if",
        files=DIFFUSERS_FILES,
        size_bytes=round(10.9 * _GB),
        vram_gb=12.0,
        vram_gb_offload=10.0,
        licence="DeepFloyd IF License Agreement",
        gated=True,
        non_commercial=True,
        variant="fp16",
        notes=_IF_NOTES
        + "Stage I, 400M-parameter UNet: faster, lower quality than XL. The T5-XXL encoder is most of the "
        "download and of the VRAM. Size and VRAM are estimates.",
    ),
    KnownModel(
        id="if-ii-l",
        repo_id="DeepFloyd/IF-II-L-v1.0",
        revision="main",
        kind="keyframe-upscale",
        pipeline="IFSuperResolutionPipeline",
        backend="if",
        files=DIFFUSERS_FILES,
        size_bytes=round(12.7 * _GB),
        vram_gb=6.0,
        vram_gb_offload=4.0,
        licence="DeepFloyd IF License Agreement",
        gated=True,
        non_commercial=True,
        variant="fp16",
        notes=_IF_NOTES
        + "Stage II, 1.2B-parameter 64->256 px super-resolution UNet. It can reuse stage I's prompt embeddings "
        "(load with text_encoder=None); its own T5 copy (~9.5 GB) is still downloaded so the folder validates "
        "as a whole. Size and VRAM (without the text encoder loaded) are estimates.",
    ),
    KnownModel(
        id="sd-x4-upscaler",
        repo_id="stabilityai/stable-diffusion-x4-upscaler",
        revision="main",
        kind="keyframe-upscale",
        pipeline="StableDiffusionUpscalePipeline",
        backend="if",  # IF's stage III: 256 -> 1024 px after stage II (engine.backends.deepfloyd)
        files=DIFFUSERS_FILES,
        size_bytes=round(1.9 * _GB),
        vram_gb=10.0,
        vram_gb_offload=7.0,
        licence="CreativeML Open RAIL++-M",
        gated=False,
        non_commercial=False,
        variant="fp16",
        notes="Stage III for DeepFloyd IF, as its model card recommends: a latent x4 upscaler with its own small "
        "OpenCLIP text encoder, used after stage II when the frame is bigger than 256 px. Size and VRAM (at 1024 "
        "px out) are estimates.",
    ),
    KnownModel(
        id="sdxl-turbo",
        repo_id="stabilityai/sdxl-turbo",
        revision="main",
        kind="draft",
        pipeline="AutoPipelineForText2Image",
        backend="text2image",
        files=DIFFUSERS_FILES,
        size_bytes=round(6.95 * _GB),
        vram_gb=8.0,
        vram_gb_offload=5.0,
        licence="Stability AI Non-Commercial Research Community License (sai-nc-community)",
        gated=False,
        non_commercial=True,
        variant="fp16",
        notes="1-4 step drafts at 512x512 (resolves to StableDiffusionXLPipeline). Commercial use needs a "
        "separate Stability AI licence. Size is an estimate from the fp16 files (UNet 5.1 GB, text encoders "
        "1.6 GB, VAE 0.2 GB); VRAM is an estimate.",
    ),
    KnownModel(
        id="flux-schnell",
        repo_id="black-forest-labs/FLUX.1-schnell",
        revision="main",
        kind="draft",
        pipeline="AutoPipelineForText2Image",
        backend="text2image",
        files=DIFFUSERS_FILES,
        size_bytes=round(33.7 * _GB),
        vram_gb=34.0,
        vram_gb_offload=24.0,
        licence="Apache-2.0",
        gated=False,
        non_commercial=False,
        notes="1-4 step drafts (resolves to FluxPipeline), weights in bf16. The root-level single-file "
        "checkpoints are not fetched. Size (transformer ~23.8 GB, T5-XXL ~9.5 GB) and VRAM are estimates; "
        "sequential offload fits smaller GPUs, slowly.",
    ),
    KnownModel(
        id="prxpixel-t2i",
        repo_id="Photoroom/prxpixel-t2i",  # the id diffusers' PRXPixelPipeline documents
        revision="main",
        kind="keyframe",
        pipeline="PRXPixelPipeline",
        backend="prx-pixel",
        files=DIFFUSERS_FILES,
        size_bytes=round(22 * _GB),
        vram_gb=24.0,
        vram_gb_offload=16.0,
        licence="see the model card (Photoroom PRX)",
        gated=False,
        non_commercial=False,
        notes="Pixel space, one stage at full resolution: a PRX transformer with a Qwen3-VL text tower, "
        "1024 px aspect buckets, 28 steps / guidance 5 suggested. Size and VRAM are estimates; size, VRAM "
        "and licence not yet checked against the model card (no hub access here).",
    ),
    KnownModel(
        id="ltx-video",
        repo_id="Lightricks/LTX-Video-0.9.5",
        revision="main",
        kind="motion",
        pipeline="LTXConditionPipeline",
        backend="ltx",
        files=DIFFUSERS_FILES,
        size_bytes=round(21 * _GB),
        vram_gb=18.0,
        vram_gb_offload=12.0,
        licence="LTXV Open Weights License",
        gated=False,
        non_commercial=False,
        notes="LTX-Video 0.9.5 in diffusers format: the checkpoint the diffusers docs load with "
        "LTXConditionPipeline (keyframe conditioning at any frame). Its licence carries use restrictions and "
        "commercial terms of its own; read it on the model page (not verified here). Size and VRAM are "
        "estimates.",
    ),
    KnownModel(
        id="wan2.1-flf2v-14b-720p",
        repo_id="Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers",
        revision="main",
        kind="motion",
        pipeline="WanImageToVideoPipeline",
        backend="wan",
        files=DIFFUSERS_FILES,
        size_bytes=round(90 * _GB),
        vram_gb=48.0,
        vram_gb_offload=30.0,
        licence="Apache-2.0",
        gated=False,
        non_commercial=False,
        notes="First/last-frame to video (pass last_image), 720p. The diffusers repo stores the 14B transformer "
        "and UMT5 text encoder in fp32, hence the size; load in bf16. Size (estimated from the I2V-14B repos: "
        "transformer ~65 GB, text encoder ~23 GB) and VRAM are estimates.",
    ),
    KnownModel(
        id="wan2.1-i2v-14b-480p",
        repo_id="Wan-AI/Wan2.1-I2V-14B-480P-Diffusers",
        revision="main",
        kind="motion",
        pipeline="WanImageToVideoPipeline",
        backend="wan",
        files=DIFFUSERS_FILES,
        size_bytes=round(90 * _GB),
        vram_gb=40.0,
        vram_gb_offload=28.0,
        licence="Apache-2.0",
        gated=False,
        non_commercial=False,
        notes="Image to video at 480p: cheaper to run than the 720p FLF2V model but the same download (Wan 2.1 "
        "has no smaller image-to-video checkpoint; the 1.3B models are text-to-video). Trained on the first "
        "frame only, so last-frame pins hold less tightly. Size and VRAM are estimates.",
    ),
    KnownModel(
        id="ltx-2",
        repo_id="Lightricks/LTX-2",
        revision="main",
        kind="motion",
        pipeline="LTX2Pipeline",
        backend="ltx2",
        files=DIFFUSERS_FILES,
        size_bytes=round(80 * _GB),
        vram_gb=60.0,
        vram_gb_offload=24.0,
        licence="LTX-2 Community License Agreement",
        gated=False,
        non_commercial=False,
        notes="LTX-2 19B audio-video model in diffusers format, loaded with LTX2ConditionPipeline: every pin a "
        "condition at its frame, sound with the picture, up to 20 s. The repo's latent_upsampler/ folder (the "
        "optional 2x stage) comes with it; its root-level single-file checkpoints are not fetched. Free for "
        "companies under the licence's revenue threshold; read it on the model page. Size (19B transformer "
        "and Gemma 3 12B text encoder in bf16) and VRAM are estimates; 24 GB needs model CPU offload plus fp8 "
        "layerwise storage.",
    ),
    *CAMERA_LORAS,  # beside their base model
    IP_ADAPTER_MODEL,  # references for text-to-image keyframes
    KnownModel(
        id="wan2.2-i2v-a14b",
        repo_id="Wan-AI/Wan2.2-I2V-A14B-Diffusers",
        revision="main",
        kind="motion",
        pipeline="WanImageToVideoPipeline",
        backend="wan22",
        files=DIFFUSERS_FILES,
        size_bytes=round(126 * _GB),
        vram_gb=60.0,
        vram_gb_offload=32.0,
        licence="Apache-2.0",
        gated=False,
        non_commercial=False,
        notes="Wan 2.2 image to video, two 14B experts (high noise, then low noise), 480p/720p at 16 fps. "
        "Size (two fp32 transformers and UMT5) and VRAM are estimates; on 24 GB use model CPU offload with fp8 "
        "layerwise storage.",
    ),
    KnownModel(
        id="wan2.2-ti2v-5b",
        repo_id="Wan-AI/Wan2.2-TI2V-5B-Diffusers",
        revision="main",
        kind="motion",
        pipeline="WanPipeline",
        backend="wan22",
        files=DIFFUSERS_FILES,
        size_bytes=round(34 * _GB),
        vram_gb=24.0,
        vram_gb_offload=12.0,
        licence="Apache-2.0",
        gated=False,
        non_commercial=False,
        notes="Wan 2.2 5B text/image to video at 720p and 24 fps with a 16x-compressing VAE: the Wan 2.2 that "
        "fits a 24 GB GPU. Size and VRAM are estimates.",
    ),
    KnownModel(
        id="wan2.1-vace-1.3b",
        repo_id="Wan-AI/Wan2.1-VACE-1.3B-diffusers",
        revision="main",
        kind="motion",
        pipeline="WanVACEPipeline",
        backend="wan-vace",
        files=DIFFUSERS_FILES,
        size_bytes=round(30 * _GB),
        vram_gb=16.0,
        vram_gb_offload=8.0,
        licence="Apache-2.0",
        gated=False,
        non_commercial=False,
        notes="Wan VACE 1.3B: pins at any frame through its video and mask inputs, reference images for "
        "characters and places, 480p. Most of the download is the fp32 UMT5 text encoder. Size and VRAM are "
        "estimates.",
    ),
    KnownModel(
        id="wan2.1-vace-14b",
        repo_id="Wan-AI/Wan2.1-VACE-14B-diffusers",
        revision="main",
        kind="motion",
        pipeline="WanVACEPipeline",
        backend="wan-vace",
        files=DIFFUSERS_FILES,
        size_bytes=round(90 * _GB),
        vram_gb=48.0,
        vram_gb_offload=28.0,
        licence="Apache-2.0",
        gated=False,
        non_commercial=False,
        notes="Wan VACE 14B at 480p/720p: the same any-frame conditioning as 1.3B at the 14B model's quality. "
        "Size and VRAM are estimates.",
    ),
)
