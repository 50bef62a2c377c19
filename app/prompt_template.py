"""The prompt template: how a shot's prompt, style and camera fields become the words a model reads.

A project holds one template (``Project.prompt_template``; "" is :data:`DEFAULT_TEMPLATE`). The
keyframe job and the clip job both render it, so the camera fields reach every model:

- ``{prompt}``: the shot's prompt (for keyframes, the text typed in the Keyframes panel)
- ``{style}``: the shot's style
- ``{size}``: the shot size in words ("MS" -> "medium shot")
- ``{angle}``: the camera angle in words ("low" -> "low angle")
- ``{lens}``: the lens ("35mm lens", "wide-angle 18mm lens", "telephoto 135mm lens")
- ``{move}``: the camera move as written ("slow push in"); a still has no move, so keyframe
  prompts leave it out and only the motion prompt has it

``{{`` and ``}}`` are literal braces. The template is cut into clauses at commas, semicolons,
full stops and line breaks; a clause whose placeholders are all empty is dropped with its label
("Camera: {move}" goes when there is no move), and of the separators around it the stronger one
stays, so no comma dangles. Text in brackets is a group that goes, brackets and all, when all its
placeholders are empty ("({size}, {move})"). A field the prompt already says ("medium shot" in a prompt drafted from
the script) is left out rather than said twice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from app.document import SHOT_SIZES, Project, Shot
from app.errors import PinframeError

# The one list of placeholders: error messages, the dialog's buttons and the CLI's help read it
# (tests/app/test_prompt_template.py checks that the README names each).
PLACEHOLDERS: dict[str, str] = {
    "prompt": "the shot's prompt",
    "style": "the shot's style",
    "size": "the shot size in words: medium shot, close-up shot",
    "angle": "the camera angle in words: low angle, high angle",
    "lens": "the lens: 35mm lens",
    "move": "the camera move as written: slow push in (motion prompts only)",
}

# Subject first, then how it is framed, then the look: video models' prompt guides (LTX, Wan) put
# camera words after the action, and image models read the start of a long prompt most closely.
DEFAULT_TEMPLATE = "{prompt}, {size}, {angle}, {lens}, {move}, {style}"

# A few one-word moves read badly on their own ("static" is also a kind of noise).
_MOVE_PHRASES = {
    "static": "static camera",
    "handheld": "handheld camera",
    "steadicam": "steadicam shot",
    "orbit": "camera orbits the subject",
}
# Lenses at or beyond these focal lengths get the word models know them by.
_WIDE_MM = 24
_TELE_MM = 100

# A clause boundary inside the template's literal text, with the spaces around it. A full stop
# counts only before a space or the end ("f/2.8" is not one).
_SEPARATOR = re.compile(r"\s*(?:\n|[,;]|\.(?=\s|$))\s*")
_SENTENCE_END = ".!?。！？"
_CLAUSE_EDGE = " :-–—"


class TemplateError(PinframeError):
    """A prompt template that can't be used, with what is wrong and how to write it."""


def placeholder_list() -> str:
    return ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)


def effective_template(project: Project) -> str:
    return project.prompt_template or DEFAULT_TEMPLATE


@dataclass(frozen=True)
class _Field:
    name: str


@dataclass(frozen=True)
class _Separator:
    text: str

    @property
    def strength(self) -> int:
        # Of the two separators around a dropped clause, the stronger one stays.
        text = self.text
        return 3 if "\n" in text else 2 if "." in text else 1 if ";" in text else 0


def _tokens(template: str) -> list[str | _Field]:
    """Literal text and placeholders, in order; TemplateError names a bad placeholder or brace."""
    tokens: list[str | _Field] = []
    literal: list[str] = []
    i = 0
    while i < len(template):
        ch = template[i]
        if ch in "{}" and template[i : i + 2] in ("{{", "}}"):
            literal.append(ch)
            i += 2
            continue
        if ch == "}":
            raise TemplateError(
                f"the prompt template has a '}}' with no '{{' before it (character {i + 1}); "
                f"placeholders are {placeholder_list()}, and '}}}}' writes a literal brace"
            )
        if ch == "{":
            end = template.find("}", i + 1)
            inner = template[i + 1 : end] if end != -1 else template[i + 1 :]
            if end == -1 or "{" in inner:
                raise TemplateError(
                    f"the prompt template has a '{{' that isn't closed (character {i + 1}); "
                    f"placeholders are {placeholder_list()}, and '{{{{' writes a literal brace"
                )
            if inner not in PLACEHOLDERS:
                raise TemplateError(
                    f"the prompt template has an unknown placeholder {{{inner}}}; use {placeholder_list()}"
                )
            if literal:
                tokens.append("".join(literal))
                literal = []
            tokens.append(_Field(inner))
            i = end + 1
            continue
        literal.append(ch)
        i += 1
    if literal:
        tokens.append("".join(literal))
    return tokens


def check_template(template: str) -> str:
    """The template as a project stores it ("" for the default), or a TemplateError saying what to fix."""
    text = template.strip()
    if not text or text == DEFAULT_TEMPLATE:
        return ""
    if not any(isinstance(t, _Field) and t.name == "prompt" for t in _tokens(text)):
        raise TemplateError(
            "the prompt template has no {prompt}, so the shots' own prompts would be left out; "
            f"add it (placeholders: {placeholder_list()})"
        )
    return text


@dataclass(frozen=True)
class _Group:
    """Text in brackets: "({size}, {move})" goes, brackets and all, when everything in it is empty."""

    opening: str
    closing: str
    items: list[_Item]


_Item = str | _Field | _Group
_BRACKETS = {"(": ")", "[": "]"}


def _tree(template: str) -> list[_Item]:
    """The template's tokens with bracketed text nested; a bracket without its partner is plain text."""
    stack: list[tuple[str, list[_Item]]] = [("", [])]

    def add(item: _Item) -> None:
        items = stack[-1][1]
        if isinstance(item, str) and items and isinstance(items[-1], str):
            items[-1] += item
        elif item != "":
            items.append(item)

    for token in _tokens(template):
        if isinstance(token, _Field):
            add(token)
            continue
        for ch in token:
            if ch in _BRACKETS:
                stack.append((ch, []))
            elif len(stack) > 1 and ch == _BRACKETS[stack[-1][0]]:
                opening, items = stack.pop()
                add(_Group(opening, ch, items))
            else:
                add(ch)
    while len(stack) > 1:  # never closed: the bracket was just a character
        opening, items = stack.pop()
        for item in (opening, *items):
            add(item)
    return stack[0][1]


def _clauses(items: list[_Item]) -> tuple[list[list[_Item]], list[_Separator], bool]:
    """Items cut at separators: clauses, the separators between them, and whether they end with one."""
    clauses: list[list[_Item]] = [[]]
    separators: list[_Separator] = []
    for item in items:
        if not isinstance(item, str):
            clauses[-1].append(item)
            continue
        start = 0
        for match in _SEPARATOR.finditer(item):
            if match.start() > start:
                clauses[-1].append(item[start : match.start()])
            separators.append(_Separator(match.group()))
            clauses.append([])
            start = match.end()
        if start < len(item):
            clauses[-1].append(item[start:])
    ends_with_separator = not clauses[-1] and bool(separators)
    if ends_with_separator:
        clauses.pop()
    return clauses, separators, ends_with_separator


def render_template(template: str, values: Mapping[str, str]) -> str:
    """Fill in ``template``; empty fields drop out with their clause and its separator."""
    return _render(_tree(template), values)[0]


def _render(items: list[_Item], values: Mapping[str, str]) -> tuple[str, bool, bool]:
    """(text, whether the items hold placeholders, whether any of them has a value)."""
    clauses, separators, ends_with_separator = _clauses(items)
    kept: list[tuple[int, str]] = []  # (clause index, text)
    has_fields = has_values = False
    for index, clause in enumerate(clauses):
        parts: list[str] = []
        fields = filled = 0
        for item in clause:
            if isinstance(item, _Field):
                value = (values.get(item.name) or "").strip()
                fields, filled = fields + 1, filled + bool(value)
                parts.append(value)
            elif isinstance(item, _Group):
                inner, grouped, full = _render(item.items, values)
                fields, filled = fields + grouped, filled + (grouped and full)
                parts.append(f"{item.opening}{inner}{item.closing}" if inner and (full or not grouped) else "")
            else:
                parts.append(item)
        has_fields, has_values = has_fields or bool(fields), has_values or bool(filled)
        # An empty field at a clause's edge leaves its label punctuation behind ("{angle}: {prompt}").
        text = " ".join("".join(parts).split()).strip(_CLAUSE_EDGE)
        if text and not (fields and not filled):
            kept.append((index, text))
    out = ""
    for position, (index, text) in enumerate(kept):
        if position:
            previous = kept[position - 1][0]
            out += _join(out, max(separators[previous:index], key=lambda s: s.strength))
        out += text
    trailing = separators[kept[-1][0] :] if kept else []
    if trailing:
        last = max(trailing, key=lambda s: s.strength)
        # A sentence the template ends keeps its full stop when the clauses after it drop out.
        if ends_with_separator or last.strength >= 2:
            out += _join(out, last).rstrip()
    return out.strip(), has_fields, has_values


def _join(before: str, separator: _Separator) -> str:
    """The separator to write after ``before``: no comma after a sentence's own full stop."""
    mark = separator.text.strip()[:1]
    if before and before[-1] in _SENTENCE_END and mark and mark in ",;.":
        return separator.text.replace(mark, "", 1) or " "
    return separator.text


# --- the words for each camera field -------------------------------------------------------------
def size_words(code: str) -> str:
    """A shot size as a model reads it: "MS" -> "medium shot" (the script importer's words)."""
    from app.script.prompt import _SIZE_PHRASES

    if not code:
        return ""
    return _SIZE_PHRASES.get(code, f"{SHOT_SIZES[code].lower()} shot")


def angle_words(angle: str) -> str:
    from app.script.prompt import _ANGLE_PHRASES

    return _ANGLE_PHRASES.get(angle, angle)


def lens_words(lens_mm: float | None) -> str:
    if lens_mm is None:
        return ""
    text = f"{lens_mm:g}mm lens"
    if lens_mm <= _WIDE_MM:
        return f"wide-angle {text}"
    return f"telephoto {text}" if lens_mm >= _TELE_MM else text


def move_words(move: str) -> str:
    text = " ".join(move.split())
    return _MOVE_PHRASES.get(text.lower(), text)


def _said(prompt: str, *values: str) -> bool:
    """Whether ``prompt`` already says one of ``values`` (whole words, any case, "eye-level" = "eye level")."""
    for value in values:
        words = r"[\s\-]+".join(re.escape(w) for w in re.split(r"[\s\-]+", value.strip()) if w)
        if words and re.search(rf"(?<!\w){words}(?!\w)", prompt, re.IGNORECASE):
            return True
    return False


def _specific(name: str) -> str:
    """``name`` when it can't mean anything but a camera term ("close-up", "eye level"); else ""."""
    return name if re.search(r"[\s\-]", name.strip()) else ""


def shot_values(shot: Shot, *, prompt: str | None = None, motion: bool = True) -> dict[str, str]:
    """Every placeholder's text for ``shot``; fields the prompt already says are left empty."""
    text = (shot.prompt if prompt is None else prompt).strip()
    camera = shot.camera
    values = {
        "style": shot.style.strip(),
        "size": size_words(camera.size),
        "angle": angle_words(camera.angle),
        "lens": lens_words(camera.lens_mm),
        "move": move_words(camera.move) if motion else "",
    }
    # Also the bare terms a prompt may use instead: "close-up of her hands", "at eye level".
    also = {"size": _specific(SHOT_SIZES.get(camera.size, "") if camera.size else ""), "angle": _specific(camera.angle)}
    values = {name: "" if _said(text, value, also.get(name, "")) else value for name, value in values.items()}
    return {"prompt": text, **values}


@dataclass(frozen=True)
class ShotPrompts:
    keyframe: str
    motion: str


def keyframe_prompt(project: Project, shot: Shot, prompt: str | None = None) -> str:
    """What a keyframe model is given for ``shot`` (``prompt`` replaces the shot's own)."""
    return render_template(effective_template(project), shot_values(shot, prompt=prompt, motion=False))


def motion_prompt(project: Project, shot: Shot) -> str:
    """What a video model is given for ``shot``: the keyframe prompt's words plus the camera move."""
    return render_template(effective_template(project), shot_values(shot))


def shot_prompts(project: Project, shot: Shot, template: str | None = None) -> ShotPrompts:
    """Both prompts of ``shot`` (under ``template`` when given, for a preview of an edit)."""
    text = effective_template(project) if template is None else template.strip() or DEFAULT_TEMPLATE
    return ShotPrompts(render_template(text, shot_values(shot, motion=False)), render_template(text, shot_values(shot)))
