"""Published facts about each frame rate, shared by the timecode tests (written out by hand)."""

from __future__ import annotations

from app.timecode import FrameRate, all_rates

# --------------------------------------------------------------------------------------------
# Published facts about each rate, written out by hand (not computed by the module).
# (num, den): (timebase, is_ntsc, supports_drop_frame, label, labels dropped per minute)
# --------------------------------------------------------------------------------------------
RATE_FACTS: dict[tuple[int, int], tuple[int, bool, bool, str, int]] = {
    (24, 1): (24, False, False, "24 fps", 0),
    (25, 1): (25, False, False, "25 fps", 0),
    (30, 1): (30, False, False, "30 fps", 0),
    (50, 1): (50, False, False, "50 fps", 0),
    (60, 1): (60, False, False, "60 fps", 0),
    (24000, 1001): (24, True, False, "23.976 fps", 0),
    (30000, 1001): (30, True, True, "29.97 fps", 2),
    (60000, 1001): (60, True, True, "59.94 fps", 4),
}

RATES = all_rates()
RATE_IDS = [str(r) for r in RATES]
NTSC_30 = FrameRate(30000, 1001)
NTSC_60 = FrameRate(60000, 1001)
NTSC_24 = FrameRate(24000, 1001)


def facts(rate: FrameRate) -> tuple[int, bool, bool, str, int]:
    return RATE_FACTS[(rate.num, rate.den)]


def tb_of(rate: FrameRate) -> int:
    return facts(rate)[0]


def drop_of(rate: FrameRate, drop_frame: bool) -> int:
    return facts(rate)[4] if drop_frame else 0
