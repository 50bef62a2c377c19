"""Keyframes that start from a picture: sketch -> keyframe from a take (a drawing, an imported
image or a generated keyframe) at a strength, and inpainting a masked region of a take.

A mixin of :class:`~ui.keyframe_panel.KeyframePanel`: the panel owns the model picker, seeds,
steps and the candidates grid, so these jobs show and land like any other generation. Which
models can do either is the backend registry's word (``image_to_image``, ``inpainting``): one
table, read here for the buttons, the menu entries and their tooltips.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QSlider

from app.document import KeyframeTake, Shot
from engine.jobs import ModelSpec
from ui.engine_bridge import EngineBridge
from ui.keyframe_take_menu import TakeKey, item_key, model_can, models_that_can
from ui.state import EditorState
from ui.takes import take_caption

STRENGTH_DEFAULT = 0.6
STRENGTH_RANGE = (5, 100)  # hundredths: 0.05..1


class FromTake:
    """Widgets and actions for starting from a picture (the panel calls ``_build_from_take``)."""

    state: EditorState
    bridge: EngineBridge
    model_spec: Callable[[], ModelSpec]
    _shot: Callable[[str | None], Shot | None]
    selected_items: Callable[[], list]
    _start_generation: Callable[..., str | None]
    _take: Callable[[str, str], KeyframeTake | None]

    def _build_from_take(self) -> None:
        self.strength = QSlider(Qt.Orientation.Horizontal)
        self.strength.setRange(*STRENGTH_RANGE)
        self.strength.setValue(round(STRENGTH_DEFAULT * 100))
        self.strength.setToolTip("How much the model may change the picture: low keeps it close, 1 keeps only its idea")
        self.strength_label = QLabel(f"{STRENGTH_DEFAULT:.2f}")
        self.strength_label.setMinimumWidth(32)
        self.strength.valueChanged.connect(lambda v: self.strength_label.setText(f"{v / 100:.2f}"))
        self.from_take_button = QPushButton("Generate from Take")
        self.from_take_button.clicked.connect(lambda: self.generate_from_take())
        self.source_label = QLabel()
        self.source_label.setWordWrap(True)
        self.source_label.setStyleSheet("color: #a0a1a8;")
        self._scratch: dict[str, Path] = {}  # job id -> mask folder, removed when the job ends
        self._sources: dict[str, str] = {}  # job id -> "from take seed 45 at strength 0.60"
        self.bridge.job_ended.connect(self._drop_scratch)

    def strength_value(self) -> float:
        return self.strength.value() / 100

    def source_key(self) -> TakeKey | None:
        """The take Generate from Take starts from: the one selected take."""
        selected = self.selected_items()
        return item_key(selected[0]) if len(selected) == 1 else None

    def _refresh_from_take(self) -> None:
        key = self.source_key()
        take = self._take(*key) if key else None
        spec = self.model_spec()
        capable = model_can(spec, "image_to_image")
        self.from_take_button.setEnabled(take is not None and capable)
        if not capable:
            self.from_take_button.setToolTip(
                f"The chosen model can't start from a picture; choose one that can: {models_that_can('image_to_image')}"
            )
        elif take is None:
            self.from_take_button.setToolTip(
                "Select one take (a drawing, an imported image or a keyframe) to start from"
            )
        else:
            self.from_take_button.setToolTip(
                "Make keyframes that keep this take's composition (the prompt, seeds and steps above apply)"
            )
        self.source_label.setText(
            f"From take {take_caption(take)}"
            if take is not None
            else "From take: select a drawing, an imported image or a take"
        )

    # --- jobs --------------------------------------------------------------------------------------
    def generate_from_take(self, key: TakeKey | None = None) -> str | None:
        """Keyframes starting from take ``key`` (the selected one by default) at the strength set."""
        key = key or self.source_key()
        take = self._take(*key) if key else None
        if key is None or take is None:
            self.state.message.emit("Select one take to start from (a drawing, an imported image or a keyframe).")
            return None
        spec = self.model_spec()
        if not model_can(spec, "image_to_image"):
            self.state.message.emit(
                f"The chosen model can't start from a picture; choose {models_that_can('image_to_image')}."
            )
            return None
        strength = self.strength_value()
        path = self.state.require_session().media.path(take.image)  # the take is in the open project
        source = f"from take {take_caption(take)} at strength {strength:.2f}"
        return self._start_generation(key[0], source, init_image=str(path), strength=strength)

    def inpaint_take(self, key: TakeKey, strength: float, mask: str, prompt: str, scratch: Path) -> str | None:
        """Repaint the masked region of take ``key`` (the drawing layer's Inpaint); ``scratch``
        (the mask's folder) is removed when the job ends."""
        take = self._take(*key)
        if take is None:
            self.state.message.emit("That keyframe was deleted meanwhile; there is nothing to inpaint.")
            return None
        spec = self.model_spec()
        if not model_can(spec, "inpainting"):
            self.state.message.emit(
                f"The chosen model can't inpaint; choose {models_that_can('inpainting')} in the Keyframes panel."
            )
            return None
        path = self.state.require_session().media.path(take.image)  # the take is in the open project
        source = f"inpainted from take {take_caption(take)} at strength {strength:.2f}"
        job_id = self._start_generation(
            key[0], source, prompt=prompt or None, init_image=str(path), strength=strength, mask_image=mask
        )
        if job_id is not None:
            self._scratch[job_id] = scratch
        return job_id

    def _drop_scratch(self, job_id: str) -> None:
        scratch = self._scratch.pop(job_id, None)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    def inpaint_tooltip(self) -> str:
        if model_can(self.model_spec(), "inpainting"):
            return "Paint a mask over this take and repaint only that region with a prompt"
        return f"The chosen model can't inpaint; choose {models_that_can('inpainting')}"
