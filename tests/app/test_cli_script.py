"""`pinframe import-script`: a screenplay into a project, re-imported after edits, bad files refused."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from app.bundle import Bundle
from app.cli import main
from app.document import KeyframeTake, Pin, new_id
from app.media_ref import MediaRef

SCRIPTS = Path(__file__).resolve().parents[1] / "data" / "scripts"


def load(path: Path):
    bundle, project, _ = Bundle.open(path, readonly=True)
    bundle.close()
    return project


def test_import_then_reimport_an_edited_script(tmp_path, capsys):
    film = tmp_path / "Film.pinframe"
    assert main(["new", str(film), "--fps", "24"]) == 0
    script = tmp_path / "last train.fountain"
    shutil.copy(SCRIPTS / "last_train.fountain", script)
    assert main(["import-script", str(film), str(script)]) == 0
    out = capsys.readouterr().out
    assert "2 new" in out
    project = load(film)
    assert [s.heading for s in project.scenes] == ["EXT. STATION PLATFORM - NIGHT", "INT. WAITING ROOM - CONTINUOUS"]
    assert all(shot.duration >= 24 and shot.prompt for shot in project.shots())
    assert project.scenes[0].shots[0].number == "1A"

    # The director pins a keyframe in scene 1 and retimes it; the writer then edits scene 2 only.
    bundle, project, _ = Bundle.open(film)
    shot = project.scenes[0].shots[0]
    take = KeyframeTake(new_id(), MediaRef("ef" * 32, "png"), 64, 36)
    worked = replace(shot, keyframe_takes=(take,), pins=(Pin(3, take.id),), duration=shot.duration + 12)
    scene1 = replace(project.scenes[0], shots=(worked,) + project.scenes[0].shots[1:])
    bundle.save(replace(project, scenes=(scene1,) + project.scenes[1:]))
    bundle.close()
    text = script.read_text(encoding="utf-8")
    script.write_text(text.replace("Every line reads CANCELLED.", "Every line reads DELAYED."), encoding="utf-8")

    assert main(["import-script", str(film), str(script), "--dry-run"]) == 0
    assert "1 changed" in capsys.readouterr().out
    assert load(film).scenes[1].shots == project.scenes[1].shots  # a dry run changes nothing

    assert main(["import-script", str(film), str(script)]) == 0
    after = load(film)
    assert after.scenes[0].shots[0] == worked  # pins, takes and retiming survive the re-import
    assert any("DELAYED" in s.action for s in after.scenes[1].shots)
    assert not any("CANCELLED" in s.action for s in after.scenes[1].shots)


def test_a_bad_script_changes_nothing_and_says_why(tmp_path, capsys):
    film = tmp_path / "Film.pinframe"
    assert main(["new", str(film)]) == 0
    before = load(film)
    bad = tmp_path / "notes.fountain"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    assert main(["import-script", str(film), str(bad)]) == 1
    err = capsys.readouterr().err
    assert "notes.fountain" in err and "Traceback" not in err
    assert load(film) == before


def test_a_shortest_shot_longer_than_the_longest_is_a_usage_error(tmp_path, capsys):
    film = tmp_path / "Film.pinframe"
    assert main(["new", str(film)]) == 0
    before = load(film)
    script = SCRIPTS / "last_train.fountain"
    assert main(["import-script", str(film), str(script), "--min-seconds", "45"]) == 2
    err = capsys.readouterr().err
    assert "--min-seconds 45 is out of range; use more than 0 up to 30 (the longest shot, --max-seconds)" in err
    assert main(["import-script", str(film), str(script), "--min-seconds", "0"]) == 2
    assert "--min-seconds 0 is out of range; use more than 0 up to 60" in capsys.readouterr().err
    assert load(film) == before
    assert main(["import-script", str(film), str(script), "--min-seconds", "30", "--dry-run"]) == 0
    # A longer longest shot allows a longer shortest one.
    assert main(["import-script", str(film), str(script), "--min-seconds", "45", "--max-seconds", "60",
                 "--dry-run"]) == 0  # fmt: skip


@pytest.mark.parametrize("value", ["0", "-5", "3601", "long"])
def test_the_longest_shot_is_range_checked(tmp_path, capsys, value):
    film = tmp_path / "Film.pinframe"
    assert main(["new", str(film)]) == 0
    assert main(["import-script", str(film), str(SCRIPTS / "last_train.fountain"), "--max-seconds", value]) == 2
    err = capsys.readouterr().err
    assert "--max-seconds" in err and value in err and "more than 0 up to 3600" in err and "Traceback" not in err
    assert main(["import-script", str(film), str(SCRIPTS / "last_train.fountain"), "--max-seconds", "nan"]) == 2
    assert "'nan' is not a finite number" in capsys.readouterr().err


def test_the_dry_run_gives_the_running_time_and_the_clipped_shots(tmp_path, capsys):
    film = tmp_path / "Film.pinframe"
    assert main(["new", str(film), "--fps", "24"]) == 0
    script = SCRIPTS / "last_train.fountain"
    assert main(["import-script", str(film), str(script), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "estimated running time 0:46 (≈ 0.8 pages at a page a minute)" in out
    assert "clipped" not in out
    assert main(["import-script", str(film), str(script), "--dry-run", "--max-seconds", "5", "--min-seconds", "1"]) == 0
    out = capsys.readouterr().out
    assert "shots 1A, 1C, 2A, 2C clipped to 5 s" in out
    assert main(["import-script", str(film), str(script), "--max-seconds", "5", "--min-seconds", "1"]) == 0
    assert "shots 1A, 1C, 2A, 2C clipped to 5 s" in capsys.readouterr().out
    project = load(film)
    clipped = {s.number: s.duration for s in project.shots() if s.number in ("1A", "1C", "2A", "2C")}
    assert set(clipped.values()) == {5 * 24}
    assert max(s.duration for s in project.shots()) == 5 * 24
