"""Smoke test of a built standalone Pinframe: run the executable as a person would, check what it writes.

    .venv/bin/python packaging/smoke_test.py packaging/dist/pinframe [--gui-seconds 8] [--keep]

Every step runs the built executable in a scratch folder (its own data, cache and Hugging
Face folders, no network, no PYTHONPATH, cwd outside the repository), so the source tree
can't stand in for something the bundle is missing. Steps: --version; demo; keyframes
--model sketch; render --model flow; export of every format at 23.976 (movies, reference,
PNG, FCP7 XML, FCPXML, EDL, OTIO, OTIOZ, PDF, CSV); a 24 fps project from a CSV shot list
exported as DNxHR with an AAF; tiny diffusers pipelines (IF, SD, LTX, built with the dev
venv from tests/engine/tiny_models.py) when that venv is running this script; `--ray`
saying that the farm isn't in this build; install.sh into a scratch HOME; the window,
offscreen and, where Xvfb is installed, on X11, twice: the second time with the system's
libxcb-cursor hidden from the start-up check, so the bundle's copy must be found. Exit status
1 when any step fails.
Standard library only, so it runs with any Python 3.11.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import smoke_checks as check
from smoke_checks import StepFailed, StepSkipped
from smoke_gui import check_gui_offscreen, check_gui_x11, check_gui_x11_bundled_xcb_cursor

ROOT = Path(__file__).resolve().parent.parent
DEMO_SPEC = json.loads((ROOT / "resources" / "demo" / "demo.json").read_text(encoding="utf-8"))
SMALL_CSV = "Shot,Scene,Heading,Action,Prompt,Frames\n1A,1,INT. HALL - DAY,A door opens.,a door opens,24\n" \
            "1B,1,INT. HALL - DAY,She walks in.,a woman walks in,12\n"  # fmt: skip


class Runner:
    def __init__(self, exe: Path, work: Path) -> None:
        self.exe, self.work = exe, work
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PYTHON", "PINFRAME_", "HF_", "QT_", "LD_PRELOAD", "VIRTUAL_ENV"))
        }
        self.env.update(
            HOME=str(work / "home"),
            PINFRAME_DATA_DIR=str(work / "data"),
            PINFRAME_CACHE_DIR=str(work / "cache"),
            HF_HOME=str(work / "hf"),
            HF_HUB_OFFLINE="1",
            QT_QPA_PLATFORM="offscreen",
        )
        (work / "home").mkdir(parents=True, exist_ok=True)
        self.results: list[tuple[str, str, float, str]] = []  # name, PASS/FAIL/SKIP, seconds, detail

    def run(self, *args: str, timeout: float = 600, ok: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(self.exe), *args], cwd=self.work, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if ok and done.returncode != 0:
            raise StepFailed(f"'pinframe {' '.join(args)}' exited {done.returncode}:\n{done.stderr[-3000:]}")
        if "Traceback (most recent call last)" in done.stderr:
            raise StepFailed(f"'pinframe {' '.join(args)}' printed a traceback:\n{done.stderr[-3000:]}")
        return done

    def info(self, project: Path) -> dict:
        return json.loads(self.run("info", str(project), "--json").stdout)

    def step(self, name: str, body) -> bool:
        started = time.monotonic()
        try:
            detail, status = body() or "", "PASS"
        except StepSkipped as exc:
            detail, status = str(exc), "SKIP"
        except (StepFailed, subprocess.TimeoutExpired, OSError, ValueError, KeyError, IndexError) as exc:
            detail, status = f"{type(exc).__name__}: {exc}", "FAIL"
        took = time.monotonic() - started
        self.results.append((name, status, took, detail))
        print(f"{status}  {name}  ({took:.1f} s){'  ' + detail if detail else ''}", flush=True)
        return status != "FAIL"


def expect(problems: list[str]) -> None:
    if problems:
        raise StepFailed("; ".join(problems))


def demo_steps(r: Runner, version: str) -> list[tuple[str, object]]:
    projects = r.work / "projects"
    demo = projects / "Demo.pinframe"
    shots = [s for scene in DEMO_SPEC["scenes"] for s in scene["shots"]]
    numbers = [s["number"] for s in shots]
    pinned = [s for s in shots if s.get("pins")]
    out = r.work / "export-demo"

    def version_step():
        text = r.run("--version").stdout.strip()
        if text != f"Pinframe {version}":
            raise StepFailed(f"--version printed {text!r}, expected 'Pinframe {version}'")
        return text

    def demo_step():
        r.run("demo", str(projects))
        expect(check.exists(demo / "project.db", 4096))
        info = r.info(demo)
        if info["shot_count"] != len(shots) or info["pin_count"] != sum(len(s["pins"]) for s in pinned):
            raise StepFailed(f"demo has {info['shot_count']} shots, {info['pin_count']} pins; demo.json disagrees")
        if info["missing_media"]:
            raise StepFailed(f"demo media missing: {info['missing_media']}")
        return f"{info['shot_count']} shots, {info['pin_count']} pins"

    def keyframes_step():
        last = numbers[-1]
        done = r.run("keyframes", str(demo), "--shot", last, "--model", "sketch", "--variations", "2", "--seed", "7",
                     "--pin", "40")  # fmt: skip
        if "seeds 7, 8" not in done.stdout:
            raise StepFailed(f"unexpected output: {done.stdout!r}")
        shot = next(s for sc in r.info(demo)["scenes"] for s in sc["shots"] if s["number"] == last)
        if 40 not in shot["pins"]:
            raise StepFailed(f"shot {last} pins are {shot['pins']}, expected one at 40")
        return done.stdout.strip()

    def render_step():
        done = r.run("render", str(demo), "--model", "flow", timeout=900)
        if f"rendered {len(pinned)} of {len(pinned)}" not in done.stdout:
            raise StepFailed(f"unexpected output: {done.stdout!r}")
        info = r.info(demo)
        if info["clip_count"] != len(pinned) or info["stale_count"] or info["missing_media"]:
            raise StepFailed(f"after render: {info['clip_count']} clips, {info['stale_count']} stale")
        return done.stdout.strip().splitlines()[-1]

    def export_step():
        r.run("export", str(demo), "--to", str(out), "--formats", "all", timeout=900)
        name = DEMO_SPEC["name"]
        problems = []
        for i, s in enumerate(shots, 1):
            media = f"{i:03d}_{s['number']}"
            problems += check.quicktime(out / "media" / f"{media}.mov")
            frames = sorted((out / "png" / media).glob("*.png"))
            expected = s["duration"] + 2 * s.get("handles", 0)  # a sequence carries the handles too
            if len(frames) != expected:
                problems.append(f"png/{media}: {len(frames)} frames, expected {expected}")
            problems += check.png(frames[0]) if frames else []
        problems += check.quicktime(out / f"{name} reference.mp4")
        problems += check.xml_root(out / f"{name}.xml", "xmeml") or check.clip_count(out / f"{name}.xml", len(shots))
        problems += check.xml_root(out / f"{name}.fcpxml", "fcpxml")
        problems += check.edl(out / f"{name}.edl", len(shots))
        problems += check.otio(out / f"{name}.otio", len(shots))
        problems += check.otioz(out / f"{name}.otioz", len(shots))
        problems += check.pdf(out / f"{name} storyboard.pdf")
        problems += check.shot_list(out / f"{name} shot list.csv", numbers)
        report = (out / "export-report.txt").read_text(encoding="utf-8")
        if "AAF not written" not in report:  # 23.976 ProRes: the report must say why there is no AAF
            problems.append("export-report.txt doesn't explain the missing AAF")
        expect(problems)
        return f"{sum(1 for p in out.rglob('*') if p.is_file())} files"

    return [
        ("--version", version_step),
        ("demo", demo_step),
        ("keyframes --model sketch", keyframes_step),
        ("render --model flow (demo, 1920x1080)", render_step),
        ("export --formats all (demo, 23.976, ProRes)", export_step),
    ]


def small_project_steps(r: Runner) -> list[tuple[str, object]]:
    small = r.work / "projects" / "Small.pinframe"
    out = r.work / "export-aaf"

    def build_step():
        r.run("new", str(small), "--fps", "24", "--size", "320x180")
        (r.work / "shots.csv").write_text(SMALL_CSV, encoding="utf-8")
        r.run("import-script", str(small), str(r.work / "shots.csv"))
        for shot, seed, frame in (("1A", 1, 0), ("1A", 2, 23), ("1B", 3, 0)):
            r.run("keyframes", str(small), "--shot", shot, "--model", "sketch", "--variations", "1",
                  "--seed", str(seed), "--pin", str(frame))  # fmt: skip
        done = r.run("render", str(small), "--model", "flow")
        if "rendered 2 of 2" not in done.stdout:
            raise StepFailed(f"unexpected output: {done.stdout!r}")
        return "2 shots from a CSV shot list, pinned and rendered"

    def aaf_step():
        r.run("export", str(small), "--to", str(out), "--codec", "dnxhr", "--formats", "movies,aaf,edl,fcp7,otio")
        problems = check.aaf(out / "Small.aaf")
        problems += check.mxf(out / "media" / "001_1A.mxf") + check.mxf(out / "media" / "002_1B.mxf")
        problems += check.edl(out / "Small.edl", 2) + check.otio(out / "Small.otio", 2)
        problems += check.xml_root(out / "Small.xml", "xmeml")
        if "AAF for Avid with the DNxHR media embedded" not in (out / "export-report.txt").read_text(encoding="utf-8"):
            problems.append("export-report.txt doesn't list the AAF")
        expect(problems)
        return f"Small.aaf {(out / 'Small.aaf').stat().st_size // 1024} KB"

    def farm_step():
        done = r.run("render", str(small), "--ray", "local", ok=False)
        if done.returncode != 1 or "needs Ray" not in done.stderr:
            raise StepFailed(f"--ray exited {done.returncode}: {done.stderr[-500:]!r}")
        return "says the farm needs Ray"

    return [
        ("new + import-script (CSV) + keyframes + render (24 fps)", build_step),
        ("export DNxHR + AAF, EDL, FCP7 XML, OTIO", aaf_step),
        ("render --ray: farm left out of this build", farm_step),
    ]


def model_steps(r: Runner, python: str | None) -> list[tuple[str, object]]:
    """diffusers + transformers + torch in the bundle, through the same loading code as real models."""
    small = r.work / "projects" / "Small.pinframe"
    models = r.work / "models"

    def build_models():
        code = (
            "import sys; from pathlib import Path; from tests.engine import tiny_models as t; "
            "root = Path(sys.argv[1]); t.build_tiny_if(root / 'if'); t.build_tiny_sd(root / 'sd'); "
            "t.build_tiny_ltx(root / 'ltx')"
        )
        done = subprocess.run([python, "-c", code, str(models)], cwd=ROOT, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise StepFailed(f"building the tiny models failed:\n{done.stderr[-2000:]}")
        return "tiny IF, SD and LTX folders"

    def keyframes_if():
        done = r.run("keyframes", str(small), "--shot", "1B", "--model", str(models / "if"), "--steps", "2",
                     "--variations", "1", "--seed", "5")  # fmt: skip
        return done.stdout.strip()

    def keyframes_sd():
        done = r.run("keyframes", str(small), "--shot", "1B", "--model", str(models / "sd"), "--steps", "2",
                     "--variations", "1", "--seed", "6")  # fmt: skip
        return done.stdout.strip()

    def render_ltx():
        done = r.run("render", str(small), "--shots", "1A", "--model", str(models / "ltx"), "--steps", "2")
        if "rendered 1 of 1 shot(s) with ltx" not in done.stdout:
            raise StepFailed(f"unexpected output: {done.stdout!r}")
        return done.stdout.strip().splitlines()[-1]

    if python is None:
        return []
    return [
        ("tiny diffusers folders (dev venv)", build_models),
        ("keyframes --model <tiny DeepFloyd IF>", keyframes_if),
        ("keyframes --model <tiny SD, AutoPipelineForText2Image>", keyframes_sd),
        ("render --model <tiny LTX-Video>", render_ltx),
    ]


def install_step(r: Runner, folder: Path) -> list[tuple[str, object]]:
    script = folder / "install.sh"
    if not script.exists():
        return []

    def body():
        env = {**r.env, "XDG_DATA_HOME": str(r.work / "home" / ".local" / "share")}
        done = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise StepFailed(f"install.sh exited {done.returncode}: {done.stderr}")
        entry = r.work / "home" / ".local" / "share" / "applications" / "pinframe.desktop"
        text = entry.read_text(encoding="utf-8")
        exec_line = re.search(r"^Exec=(.*)$", text, re.M)
        if not exec_line or not exec_line.group(1).startswith(f'"{folder.resolve() / "pinframe"}"'):
            raise StepFailed(f"desktop entry Exec is {exec_line.group(1) if exec_line else None!r}")
        expect(check.png(r.work / "home/.local/share/icons/hicolor/256x256/apps/pinframe.png"))
        link = r.work / "home" / ".local" / "bin" / "pinframe"
        version = subprocess.run([str(link), "--version"], env=r.env, capture_output=True, text=True, timeout=60)
        if version.returncode != 0:
            raise StepFailed(f"~/.local/bin/pinframe --version failed: {version.stderr[-500:]}")
        if shutil.which("desktop-file-validate"):
            valid = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
            if valid.returncode != 0:
                raise StepFailed(f"desktop-file-validate: {valid.stdout}{valid.stderr}")
        return "desktop entry, icons and ~/.local/bin/pinframe"

    return [("install.sh into a scratch HOME", body)]


def repo_version() -> str:
    return re.search(r'__version__ = "([^"]+)"', (ROOT / "app" / "__init__.py").read_text()).group(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the built folder (holding the 'pinframe' executable)")
    parser.add_argument("--gui-seconds", type=float, default=8.0, help="how long the window must stay up")
    parser.add_argument("--no-models", action="store_true", help="skip the tiny diffusers model steps")
    parser.add_argument("--screenshot", type=Path, help="save a screenshot of the X11 window here (needs Xvfb)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (its path is printed)")
    args = parser.parse_args()
    args.folder = args.folder.resolve()  # the steps run in a scratch folder
    # Linux and macOS: pinframe; Windows: the console executable beside the windowed one.
    exe = next((args.folder / n for n in ("pinframe", "pinframe-cli.exe") if (args.folder / n).is_file()), None)
    if exe is None:
        parser.error(f"no pinframe executable in {args.folder}; build first (packaging/build.sh)")
    python = None
    if not args.no_models:
        probe = subprocess.run([sys.executable, "-c", "import diffusers, torch"], capture_output=True, cwd=ROOT)
        python = sys.executable if probe.returncode == 0 else None
        if python is None:
            print("SKIP  tiny diffusers models: this Python has no torch/diffusers (run with the dev venv)")

    work = Path(tempfile.mkdtemp(prefix="pinframe-smoke-"))
    runner = Runner(exe, work)
    started = time.monotonic()
    steps = [
        *demo_steps(runner, repo_version()),
        *small_project_steps(runner),
        *model_steps(runner, python),
        *install_step(runner, args.folder),
        ("window, offscreen", lambda: check_gui_offscreen(runner, args.gui_seconds)),
        ("window, X11 (Xvfb)", lambda: check_gui_x11(runner, args.gui_seconds, args.screenshot)),
        # Once more with the system's libxcb-cursor hidden from the start-up check
        # ("PINFRAME_HIDE_SYSTEM_LIBS": "1", see smoke_gui): the bundle's own copy must be found.
        (
            "window, X11, system libxcb-cursor hidden",
            lambda: check_gui_x11_bundled_xcb_cursor(runner, args.folder, args.gui_seconds),
        ),
    ]
    for name, body in steps:
        if not runner.step(name, body) and name in ("--version", "demo"):
            break  # nothing after these can work
    counts = {status: sum(1 for _, s, _, _ in runner.results if s == status) for status in ("PASS", "FAIL", "SKIP")}
    print(
        f"\nsmoke: {counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped "
        f"in {time.monotonic() - started:.0f} s"
    )
    if args.keep:
        print(f"scratch folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
