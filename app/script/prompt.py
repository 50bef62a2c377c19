"""A first prompt for a shot's keyframe, drafted from its scene heading and action.

The prompt reads "framing, setting, light. What happens. Style." Dialogue is left out on
purpose: quoted speech makes image models paint lettering into the frame.

Length matters more than wording. DeepFloyd IF (and every CLIP-based model) reads 77 tokens
and silently drops the rest, and T5 spends about 1.3 tokens a word plus one for most commas,
so the action is cut at a sentence boundary to 35 words: with the framing, setting and style
around it (about 20 words at most) the whole prompt stays within what the model reads.

The style suffix is short: "cinematic film still" asks for one photographic frame.
"Storyboard" is left out because it makes models draw sheets of sketched panels with borders
and captions; a shot's own style is appended by the engine service.
"""

from __future__ import annotations

import re

from app.document import SHOT_SIZES
from app.script.model import ScriptScene, ScriptShot
from app.script.timing import count_words

STYLE_SUFFIX = "Cinematic film still"
ACTION_WORD_LIMIT = 35

# Phrases image models know; the rest are the SHOT_SIZES names with "shot".
_SIZE_PHRASES = {
    "FS": "full shot, full body",
    "OTS": "over-the-shoulder shot",
    "POV": "point-of-view shot",
    "INS": "insert shot, close detail",
    "2S": "two-shot",
}
_ANGLE_PHRASES = {
    "eye level": "eye-level shot",
    "high": "high angle",
    "low": "low angle",
    "overhead": "overhead shot, top-down view",
    "worm's eye": "worm's-eye view",
    "dutch": "dutch angle",
    "aerial": "aerial view",
}
_SETTING_WORDS = {
    "INT.": "interior",
    "EXT.": "exterior",
    "EST.": "exterior",
    "INT./EXT.": "interior and exterior",
    "INT/EXT.": "interior and exterior",
    "INT/EXT": "interior and exterior",
    "I/E.": "interior and exterior",
    "I/E": "interior and exterior",
    "EXT./INT.": "interior and exterior",
    "EXT/INT.": "interior and exterior",
    "EXT/INT": "interior and exterior",
}

_NIGHT = "night, dark, artificial light"
LIGHTING: dict[str, str] = {
    "NIGHT": _NIGHT,
    "LATE NIGHT": _NIGHT,
    "MIDNIGHT": _NIGHT,
    "NIGHTTIME": _NIGHT,
    "DAY": "daylight",
    "DAYTIME": "daylight",
    "MORNING": "morning light",
    "EARLY MORNING": "early morning, soft low light",
    "NOON": "midday, hard sunlight",
    "MIDDAY": "midday, hard sunlight",
    "AFTERNOON": "afternoon daylight",
    "LATE AFTERNOON": "late afternoon, warm low sun",
    "EVENING": "evening, warm low light",
    "DAWN": "dawn, soft early light",
    "DAYBREAK": "dawn, soft early light",
    "FIRST LIGHT": "dawn, soft early light",
    "SUNRISE": "sunrise, golden light",
    "DUSK": "dusk, fading light, blue hour",
    "TWILIGHT": "twilight, blue hour",
    "BLUE HOUR": "twilight, blue hour",
    "SUNSET": "sunset, golden light",
    "SUNDOWN": "sunset, golden light",
    "MAGIC HOUR": "golden hour, warm low sun",
    "GOLDEN HOUR": "golden hour, warm low sun",
}
# Time words that say "when" only relative to the scene before: no lighting of their own.
CONTINUITY_WORDS = frozenset(
    {"CONTINUOUS", "CONT", "CONT'D", "CONTD", "CONTINUING", "LATER", "MOMENTS LATER", "A MOMENT LATER",
     "MOMENT LATER", "MOMENTS AFTER", "SECONDS LATER", "MINUTES LATER", "SAME", "SAME TIME", "SIMULTANEOUS",
     "SAME MOMENT"}
)  # fmt: skip

# A sentence with the closing quotes and spaces after it, so joining them back gives the text.
_SENTENCE_RE = re.compile(r"[^.!?。！？]*[.!?。！？]+[\"'”’)」』]*\s*|[^.!?。！？]+$")
_EMPHASIS_RE = re.compile(r"(?<!\w)[*_]+|[*_]+(?!\w)")
_NOTE_RE = re.compile(r"\[\[.*?\]\]|/\*.*?\*/", re.DOTALL)
_CAPS_WORD_RE = re.compile(r"\b[^\W\d_]{4,}(?:['’][^\W\d_]+)?\b")


def _norm_time(text: str) -> str:
    text = text.upper().replace("’", "'")
    text = re.sub(r"[.,;:!]+$", "", text.strip())
    return " ".join(text.split())


def lighting_for(time_of_day: str) -> str:
    """Light words for a time of day ("" when it names none or only follows on, like CONTINUOUS)."""
    key = _norm_time(re.sub(r"\(.*?\)", " ", time_of_day))
    if key in LIGHTING:
        return LIGHTING[key]
    if key in CONTINUITY_WORDS:
        return ""
    # "LATER THAT NIGHT", "THE NEXT MORNING": the longest time word inside.
    for word in sorted(LIGHTING, key=len, reverse=True):
        if re.search(rf"\b{re.escape(word)}\b", key):
            return LIGHTING[word]
    return ""


def _place_words(text: str) -> str:
    """A place as a person would write it in a sentence: "JOHN'S KITCHEN" -> "john's kitchen"."""
    text = " ".join(text.split())
    cased = [c for c in text if c.isupper() or c.islower()]
    return text.lower() if cased and all(c.isupper() for c in cased) else text


def _setting(scene: ScriptScene, fallback_time: str) -> tuple[list[str], str, bool]:
    """(setting words, lighting words, establishing) from the heading."""
    ie, place, time = scene.setting
    parts: list[str] = [_SETTING_WORDS[ie]] if ie in _SETTING_WORDS else []
    lighting = lighting_for(time)
    pieces = [p for p in re.split(r"\s+[-–—]\s+", place) if p.strip()] if place else []
    if time and not lighting and _norm_time(re.sub(r"\(.*?\)", " ", time)) not in CONTINUITY_WORDS:
        pieces.append(time)  # "FLASHBACK", "1985": words the model can still use
    for index, piece in enumerate(pieces):
        key = _norm_time(piece)
        if index and key in CONTINUITY_WORDS:
            continue
        if index and key in LIGHTING:  # "HOUSE - NIGHT - FLASHBACK": the time isn't last
            lighting = lighting or LIGHTING[key]
            continue
        parts.append(_place_words(piece))
    if not lighting and fallback_time:
        lighting = lighting_for(fallback_time)
    return parts, lighting, ie == "EST."


def _readable(action: str) -> str:
    """Action text without markup, and without screenplay capitals shouting at the model."""
    text = _NOTE_RE.sub(" ", action)
    text = _EMPHASIS_RE.sub("", text)
    text = " ".join(text.split())
    letters = [c for c in text if c.isalpha() and (c.isupper() or c.islower())]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.8:
        # All caps ("BANG! THE DOOR EXPLODES."): sentence case.
        return "".join(s[:1].upper() + s[1:] for s in re.split(r"(?<=[.!?]\s)", text.lower()))
    # Character introductions and sound cues ("ANNA", "CRASH") read as names; short
    # capitals (TV, FBI, BOB) are left alone because they are as often acronyms.
    return _CAPS_WORD_RE.sub(lambda m: m.group(0).capitalize() if m.group(0).isupper() else m.group(0), text)


def _clip_words(text: str, limit: int) -> str:
    """The first ``limit`` words of one long sentence (characters for unspaced scripts)."""
    out = ""
    for token in re.findall(r"\S+\s*", text):
        if count_words(out + token) <= limit:
            out += token
            continue
        # An unspaced-script token: take as many characters as still fit.
        for ch in token:
            if count_words(out + ch) > limit:
                break
            out += ch
        break
    return out.rstrip(" ,;:-–—") + ("" if out.rstrip()[-1:] in ".!?。！？" else ".")


def trim_action(action: str, limit: int = ACTION_WORD_LIMIT) -> str:
    """Readable action text of at most ``limit`` words, cut after a whole sentence where possible."""
    text = _readable(action)
    if count_words(text) <= limit:
        return text
    kept = ""
    for sentence in _SENTENCE_RE.findall(text):
        if count_words(kept + sentence) > limit:
            break
        kept += sentence
    return kept.strip() or _clip_words(text, limit)


def draft_prompt(scene: ScriptScene, shot: ScriptShot, *, fallback_time: str = "") -> str:
    """A keyframe prompt for ``shot``; the shot's own prompt (from a shot list) wins.

    ``fallback_time`` is the time of day of the last scene that named one, used when this
    heading says only CONTINUOUS, LATER or nothing.
    """
    if shot.prompt is not None:
        return shot.prompt
    setting, lighting, establishing = _setting(scene, fallback_time)
    head: list[str] = []
    if shot.size in SHOT_SIZES and shot.size:
        head.append(_SIZE_PHRASES.get(shot.size, f"{SHOT_SIZES[shot.size].lower()} shot"))
    elif establishing:
        head.append("establishing shot")
    if shot.angle in _ANGLE_PHRASES:
        head.append(_ANGLE_PHRASES[shot.angle])
    head += setting
    if lighting:
        head.append(lighting)
    sentences = []
    if head:
        sentences.append(", ".join(head) + ".")
    action = trim_action(shot.action)
    if action:
        sentences.append(action if action[-1] in ".!?。！？" else action + ".")
    sentences.append(STYLE_SUFFIX + ".")  # after the action, like the style the engine appends
    text = " ".join(sentences)
    return text[:1].upper() + text[1:]
