"""download_model against a fake Hub on 127.0.0.1: progress, resume, cancel, offline, errors.

The fake implements the endpoints huggingface_hub 2.4 calls (revision info, recursive tree,
HEAD/GET /resolve) and, on a second port, a "CDN" that LFS files redirect to, with HTTP Range
support, like the real Hub. Every socket connection is checked: anything but loopback fails
the test, so nothing here can reach the internet.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import torch
from huggingface_hub import constants
from safetensors.torch import save

from engine.errors import EngineError, JobCancelled
from engine.models import download
from engine.models.download import PARTIAL_SUFFIX, download_model
from engine.models.registry import DIFFUSERS_FILES, KnownModel, find_in_cache

COMMIT = "c0ffee0000000000000000000000000000000001"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_REQUESTS = 300  # per test; a runaway retry loop fails instead of hammering


def tensor_bytes(n: int, dtype: torch.dtype, seed: int) -> bytes:
    torch.manual_seed(seed)
    return save({"weight": torch.randn(n).to(dtype)})


def git_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class FakeRepo:
    repo_id: str
    files: dict[str, bytes]
    lfs: set[str]
    gated: bool = False
    commit: str = COMMIT

    def sha256(self, path: str) -> str:
        return hashlib.sha256(self.files[path]).hexdigest()


def tiny_repo(repo_id: str = "pinframe-test/tiny", gated: bool = False) -> FakeRepo:
    index = {
        "_class_name": "TinyPipeline",
        "scheduler": ["diffusers", "DDPMScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"],
        "unet": ["diffusers", "UNet2DModel"],
    }
    files = {
        "README.md": b"# tiny\n",
        "model_index.json": json.dumps(index).encode(),
        "scheduler/scheduler_config.json": b'{"_class_name": "DDPMScheduler"}',
        "text_encoder/config.json": b"{}",
        "text_encoder/model.safetensors": tensor_bytes(16_000, torch.float32, 1),  # ~64 KB, no fp16 variant
        "unet/config.json": b'{"_class_name": "UNet2DModel"}',
        "unet/diffusion_pytorch_model.fp16.safetensors": tensor_bytes(160_000, torch.float16, 2),  # ~320 KB
        "unet/diffusion_pytorch_model.safetensors": tensor_bytes(160_000, torch.float32, 2),  # fp32 duplicate
        "unet/diffusion_pytorch_model.bin": b"\x80\x04 a pickle Pinframe must never fetch",
        "tiny_single_file.safetensors": tensor_bytes(1000, torch.float16, 3),  # root checkpoint: not fetched
    }
    lfs = {p for p in files if p.endswith((".safetensors", ".bin"))}
    return FakeRepo(repo_id, files, lfs, gated)


WANTED = [
    "model_index.json",
    "scheduler/scheduler_config.json",
    "text_encoder/config.json",
    "text_encoder/model.safetensors",
    "unet/config.json",
    "unet/diffusion_pytorch_model.fp16.safetensors",
]
BIG = "unet/diffusion_pytorch_model.fp16.safetensors"


def known(repo: FakeRepo, **changes: object) -> KnownModel:
    base = {
        "id": "tiny",
        "repo_id": repo.repo_id,
        "revision": "main",
        "kind": "keyframe",
        "pipeline": "TinyPipeline",
        "files": DIFFUSERS_FILES,
        "size_bytes": 400_000,
        "vram_gb": 1.0,
        "vram_gb_offload": 0.5,
        "licence": "Test Licence",
        "gated": repo.gated,
        "non_commercial": False,
        "variant": "fp16",
    }
    base.update(changes)
    return KnownModel(**base)  # type: ignore[arg-type]


@dataclass
class Request:
    server: str
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)


class FakeHub:
    """The Hub API and resolve endpoints on one port, a Range-capable CDN on another."""

    def __init__(self, repos: list[FakeRepo]) -> None:
        self.repos = {r.repo_id: r for r in repos}
        self.requests: list[Request] = []
        self.cut_after: dict[str, int] = {}  # sha256 -> bytes to send before dropping the connection (once)
        self.corrupt: set[str] = set()  # sha256 of files served with flipped bytes
        self.ignore_range: set[str] = set()  # sha256 of files served whole whatever Range asks
        self.token = "good-token"
        self._lock = threading.Lock()
        self._servers = [ThreadingHTTPServer(("127.0.0.1", 0), self._handler(role)) for role in ("hub", "cdn")]
        for server in self._servers:
            server.daemon_threads = True
        self._threads = [
            threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}) for s in self._servers
        ]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._servers[0].server_address[1]}"

    @property
    def cdn_url(self) -> str:
        return f"http://127.0.0.1:{self._servers[1].server_address[1]}"

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for t in self._threads:
            t.join(timeout=5)

    def gets(self, server: str, needle: str = "") -> list[Request]:
        return [r for r in self.requests if r.server == server and r.method == "GET" and needle in r.path]

    def _handler(self, role: str) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                hub._serve(self, role, "GET")

            def do_HEAD(self) -> None:
                hub._serve(self, role, "HEAD")

        return Handler

    def _serve(self, h: BaseHTTPRequestHandler, role: str, method: str) -> None:
        path = unquote(urlsplit(h.path).path)
        with self._lock:
            self.requests.append(Request(role, method, path, {k.lower(): v for k, v in h.headers.items()}))
            too_many = len(self.requests) > MAX_REQUESTS
        if too_many:
            return self._reply(h, 503, b"too many requests in one test", {})
        try:
            if role == "cdn":
                return self._cdn(h, method, path)
            if path.startswith("/api/models/"):
                return self._api(h, path.removeprefix("/api/models/"))
            if m := re.match(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", path):
                return self._resolve(h, method, m[1], m[2], m[3])
            return self._reply(h, 404, b"not found", {})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up (a cancelled download): nothing to do

    def _api(self, h: BaseHTTPRequestHandler, rest: str) -> None:
        org, name, kind, *_ = rest.split("/") + ["", ""]
        repo = self.repos.get(f"{org}/{name}")
        if repo is None:
            return self._reply(h, 404, b"{}", {"X-Error-Code": "RepoNotFound"})
        if kind == "revision":
            info = {"id": repo.repo_id, "sha": repo.commit, "siblings": [{"rfilename": p} for p in repo.files]}
            return self._json(h, info)
        if kind == "tree":
            entries = []
            for p, data in repo.files.items():
                entry = {"type": "file", "path": p, "size": len(data), "oid": git_oid(data)}
                if p in repo.lfs:
                    entry["oid"] = git_oid(b"version https://git-lfs.github.com/spec/v1\n" + p.encode())
                    entry["lfs"] = {"oid": repo.sha256(p), "size": len(data), "pointerSize": 134}
                entries.append(entry)
            return self._json(h, entries)
        return self._reply(h, 404, b"{}", {})

    def _resolve(self, h: BaseHTTPRequestHandler, method: str, repo_id: str, revision: str, path: str) -> None:
        repo = self.repos.get(repo_id)
        if repo is None:
            return self._reply(h, 404, b"", {"X-Error-Code": "RepoNotFound"})
        if revision not in ("main", repo.commit):
            return self._reply(h, 404, b"", {"X-Error-Code": "RevisionNotFound"})
        if repo.gated and h.headers.get("authorization") != f"Bearer {self.token}":
            return self._reply(
                h, 401, b"", {"X-Error-Code": "GatedRepo", "X-Error-Message": "Access to this model is restricted."}
            )
        if path not in repo.files:
            return self._reply(h, 404, b"", {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": repo.commit})
        data = repo.files[path]
        if path in repo.lfs:
            sha = repo.sha256(path)
            headers = {
                "Location": f"{self.cdn_url}/cdn/{sha}?signature=fake",
                "X-Linked-Etag": f'"{sha}"',
                "X-Linked-Size": str(len(data)),
                "ETag": '"pointer"',
                "X-Repo-Commit": repo.commit,
            }
            return self._reply(h, 302, b"", headers)
        headers = {"ETag": f'"{git_oid(data)}"', "X-Repo-Commit": repo.commit}
        return self._reply(h, 200, b"" if method == "HEAD" else data, headers, length=len(data))

    def _cdn(self, h: BaseHTTPRequestHandler, method: str, path: str) -> None:
        sha = path.removeprefix("/cdn/")
        found = [r.files[p] for r in self.repos.values() for p in r.lfs if r.sha256(p) == sha]
        if not found:
            return self._reply(h, 404, b"", {})
        data = found[0]
        if sha in self.corrupt:
            data = bytes(b ^ 0xFF for b in data)
        start = 0
        if sha not in self.ignore_range and (m := re.match(r"bytes=(\d+)-$", h.headers.get("range", ""))):
            start = int(m[1])
        status = 206 if start else 200
        headers = {"ETag": f'"{sha}"', "Accept-Ranges": "bytes"}
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        body = data[start:]
        with self._lock:
            cut = self.cut_after.pop(sha, None) if method == "GET" else None
        if cut is None:
            return self._reply(h, status, b"" if method == "HEAD" else body, headers, length=len(body))
        # Promise the whole body, send part of it, and drop the connection: a network failure mid-file.
        self._reply(h, status, body[:cut], headers, length=len(body))
        h.wfile.flush()
        h.close_connection = True
        h.connection.shutdown(socket.SHUT_RDWR)

    def _json(self, h: BaseHTTPRequestHandler, value: object) -> None:
        self._reply(h, 200, json.dumps(value).encode(), {"Content-Type": "application/json"})

    def _reply(
        self, h: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str], length: int | None = None
    ) -> None:
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body) if length is None else length))
        h.end_headers()
        for i in range(0, len(body), 16 * 1024):
            h.wfile.write(body[i : i + 16 * 1024])


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail any connection or name lookup that isn't loopback, and record it."""
    attempts: list[str] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host not in LOOPBACK:
            attempts.append(f"lookup {host}")
            raise OSError(f"test tried to resolve {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(sock, address):  # type: ignore[no-untyped-def]
        if isinstance(address, tuple) and address[0] not in LOOPBACK:
            attempts.append(f"connect {address}")
            raise OSError(f"test tried to connect to {address}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    yield attempts
    assert attempts == [], f"tests must not reach the network: {attempts}"


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    # Small chunks so a ~320 KB file arrives in several pieces; no real waiting between retries.
    monkeypatch.setattr(download, "_CHUNK_BYTES", 32 * 1024)
    monkeypatch.setattr(download, "_RETRY_WAIT_S", 0.01)


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, fast: None) -> Iterator[FakeHub]:
    fake = FakeHub([tiny_repo(), tiny_repo("pinframe-test/gated", gated=True)])
    fake.start()
    # The tests' conftest turns offline mode on; these tests talk to the fake Hub only.
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    # Belt and braces: any code path that ignores `endpoint=` lands on the fake too.
    monkeypatch.setattr(constants, "ENDPOINT", fake.url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", fake.url + "/{repo_id}/resolve/{revision}/{filename}")
    yield fake
    fake.stop()


def fetch(hub: FakeHub, cache: Path, model: KnownModel | None = None, **kwargs: object) -> Path:
    model = model or known(hub.repos["pinframe-test/tiny"])
    kwargs.setdefault("token", False)
    return download_model(model, cache_dir=cache, endpoint=hub.url, **kwargs)  # type: ignore[arg-type]


def assert_snapshot(path: Path, repo: FakeRepo) -> None:
    assert path.name == repo.commit
    for p in WANTED:
        assert (path / p).read_bytes() == repo.files[p], p
    assert sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()) == WANTED


def test_download_reports_bytes_and_fetches_only_safe_selected_files(hub: FakeHub, tmp_path: Path) -> None:
    repo = hub.repos["pinframe-test/tiny"]
    calls: list[tuple[int, int]] = []
    path = fetch(hub, tmp_path / "hub", on_progress=lambda done, total: calls.append((done, total)))

    assert_snapshot(path, repo)
    total = sum(len(repo.files[p]) for p in WANTED)
    assert {t for _, t in calls} == {total}
    assert calls[-1] == (total, total)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert len(calls) > 10  # byte progress inside files, not one tick per file
    touched = {r.path.split("/resolve/main/")[-1].split(f"/resolve/{COMMIT}/")[-1] for r in hub.requests}
    for never in ("unet/diffusion_pytorch_model.bin", "unet/diffusion_pytorch_model.safetensors", "README.md"):
        assert never not in touched
    assert not any(r.path.endswith(".bin") for r in hub.requests)
    assert len(hub.gets("cdn")) == 2  # one GET per LFS file, nothing downloaded twice
    status = find_in_cache(known(repo), tmp_path / "hub")
    assert status.complete and status.path == path and status.commit == COMMIT
    assert not list((tmp_path / "hub").rglob(f"*{PARTIAL_SUFFIX}"))


def test_dropped_connection_resumes_with_range(hub: FakeHub, tmp_path: Path) -> None:
    repo = hub.repos["pinframe-test/tiny"]
    sha = repo.sha256(BIG)
    hub.cut_after[sha] = 100_000
    path = fetch(hub, tmp_path / "hub")

    ranges = [g.headers.get("range") for g in hub.gets("cdn", sha)]
    assert len(ranges) == 2 and ranges[0] is None
    # Resumes from what reached the disk: the bytes the server sent, less any part-chunk in flight.
    start = int(re.fullmatch(r"bytes=(\d+)-", ranges[1])[1])  # type: ignore[index]
    assert 100_000 - download._CHUNK_BYTES < start <= 100_000
    assert (path / BIG).read_bytes() == repo.files[BIG]


def test_server_ignoring_range_restarts_the_file_cleanly(hub: FakeHub, tmp_path: Path) -> None:
    repo = hub.repos["pinframe-test/tiny"]
    sha = repo.sha256(BIG)
    hub.cut_after[sha] = 100_000
    hub.ignore_range.add(sha)
    calls: list[tuple[int, int]] = []
    path = fetch(hub, tmp_path / "hub", on_progress=lambda d, t: calls.append((d, t)))
    assert [g.headers.get("range") is not None for g in hub.gets("cdn", sha)] == [False, True]
    assert (path / BIG).read_bytes() == repo.files[BIG]
    total = calls[-1][1]
    assert calls[-1] == (total, total) and max(d for d, _ in calls) == total


def test_cancel_keeps_the_partial_file_and_the_next_call_resumes(hub: FakeHub, tmp_path: Path) -> None:
    repo = hub.repos["pinframe-test/tiny"]
    sha = repo.sha256(BIG)
    cache = tmp_path / "hub"
    cancel = threading.Event()
    before_big = sum(len(repo.files[p]) for p in WANTED if p != BIG)

    def on_progress(done: int, total: int) -> None:
        if done >= before_big + 100_000:
            cancel.set()

    with pytest.raises(JobCancelled):
        fetch(hub, cache, on_progress=on_progress, cancel_event=cancel)
    partial = next(cache.rglob(f"{sha}{PARTIAL_SUFFIX}"))
    kept = partial.stat().st_size
    assert 100_000 <= kept < len(repo.files[BIG])
    assert partial.read_bytes() == repo.files[BIG][:kept]
    assert not find_in_cache(known(repo), cache).complete

    calls: list[tuple[int, int]] = []
    path = fetch(hub, cache, on_progress=lambda d, t: calls.append((d, t)))
    assert hub.gets("cdn", sha)[-1].headers.get("range") == f"bytes={kept}-"
    assert calls[0][0] == before_big + kept  # resumed bytes count as done from the start
    assert calls[-1] == (calls[-1][1], calls[-1][1])
    assert (path / BIG).read_bytes() == repo.files[BIG]
    assert not partial.exists()


def test_cancel_before_start_touches_nothing(hub: FakeHub, tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(JobCancelled):
        fetch(hub, tmp_path / "hub", cancel_event=cancel)
    assert hub.requests == []


def test_offline_mode_refuses_without_touching_the_network(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_internet: list[str]
) -> None:
    model = known(tiny_repo())
    # Set through the environment after huggingface_hub was imported...
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EngineError, match=re.escape(download.OFFLINE_MESSAGE)):
        download_model(model, cache_dir=tmp_path / "hub")
    # ...or read by huggingface_hub at import.
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(EngineError, match=r"HF_HUB_OFFLINE=1\); unset it to download, or add a local folder"):
        download_model(model, cache_dir=tmp_path / "hub")
    assert no_internet == []


def write_hub_cache(cache: Path, repo: FakeRepo, skip: tuple[str, ...] = ()) -> Path:
    """Files laid out as huggingface_hub's cache keeps them: blobs, snapshot links, a ref."""
    storage = cache / f"models--{repo.repo_id.replace('/', '--')}"
    (storage / "refs").mkdir(parents=True)
    (storage / "refs" / "main").write_text(repo.commit)
    snapshot = storage / "snapshots" / repo.commit
    for p in WANTED:
        if p in skip:
            continue
        blob = storage / "blobs" / (repo.sha256(p) if p in repo.lfs else git_oid(repo.files[p]))
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(repo.files[p])
        (snapshot / p).parent.mkdir(parents=True, exist_ok=True)
        (snapshot / p).symlink_to(blob)
    return snapshot


def test_offline_mode_returns_a_complete_cached_snapshot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    repo = tiny_repo()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    snapshot = write_hub_cache(tmp_path / "hub", repo)
    assert download_model(known(repo), cache_dir=tmp_path / "hub") == snapshot

    partial_cache = tmp_path / "partial"
    write_hub_cache(partial_cache, repo, skip=(BIG,))
    with pytest.raises(EngineError, match="offline mode is on"):
        download_model(known(repo), cache_dir=partial_cache)


def test_offline_after_a_download_needs_no_requests(
    hub: FakeHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = fetch(hub, tmp_path / "hub")
    seen = len(hub.requests)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert fetch(hub, tmp_path / "hub") == path
    assert len(hub.requests) == seen


def test_missing_link_is_reported_then_repaired_from_the_blobs(hub: FakeHub, tmp_path: Path) -> None:
    repo = hub.repos["pinframe-test/tiny"]
    cache = tmp_path / "hub"
    path = fetch(hub, cache)
    (path / BIG).unlink()
    status = find_in_cache(known(repo), cache)  # the cached file list says what is missing
    assert not status.complete and status.missing == (BIG,)

    cdn_before = len(hub.gets("cdn"))
    assert fetch(hub, cache) == path
    assert len(hub.gets("cdn")) == cdn_before  # the blob was still there: nothing re-downloaded
    assert (path / BIG).read_bytes() == repo.files[BIG]


def test_gated_model_without_token_explains_what_to_do(hub: FakeHub, tmp_path: Path) -> None:
    model = known(hub.repos["pinframe-test/gated"])
    with pytest.raises(EngineError) as info:
        fetch(hub, tmp_path / "hub", model)
    message = str(info.value)
    for part in ("gated", "accept its licence", f"{hub.url}/pinframe-test/gated", "hf auth login", "HF_TOKEN"):
        assert part in message, message
    assert hub.gets("cdn") == []


def test_token_goes_to_the_hub_but_never_to_the_cdn(hub: FakeHub, tmp_path: Path) -> None:
    repo = hub.repos["pinframe-test/gated"]
    path = fetch(hub, tmp_path / "hub", known(repo), token=hub.token)
    assert (path / BIG).read_bytes() == repo.files[BIG]
    resolves = [r for r in hub.requests if "/resolve/" in r.path]
    assert resolves and all(r.headers.get("authorization") == f"Bearer {hub.token}" for r in resolves)
    assert hub.gets("cdn") and all("authorization" not in r.headers for r in hub.gets("cdn"))


def test_not_enough_disk_space_is_refused_before_downloading(
    hub: FakeHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(download, "_free_bytes", lambda folder: 1_000)
    with pytest.raises(EngineError, match="Not enough disk space") as info:
        fetch(hub, tmp_path / "hub")
    assert str(tmp_path / "hub") in str(info.value)
    assert hub.gets("cdn") == [] and not any("/resolve/" in r.path for r in hub.requests)


def test_damaged_bytes_are_caught_by_the_checksum(hub: FakeHub, tmp_path: Path) -> None:
    repo = hub.repos["pinframe-test/tiny"]
    hub.corrupt.add(repo.sha256("text_encoder/model.safetensors"))
    with pytest.raises(EngineError, match="checksum"):
        fetch(hub, tmp_path / "hub")
    assert not list((tmp_path / "hub").rglob(f"*{PARTIAL_SUFFIX}"))
    assert not (
        tmp_path / "hub" / "models--pinframe-test--tiny" / "blobs" / repo.sha256("text_encoder/model.safetensors")
    ).exists()


def test_unreachable_hub_gives_an_actionable_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fast: None) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = f"http://127.0.0.1:{port}"
    monkeypatch.setattr(constants, "ENDPOINT", dead)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", dead + "/{repo_id}/resolve/{revision}/{filename}")
    with pytest.raises(EngineError, match="Couldn't reach the Hugging Face Hub") as info:
        download_model(known(tiny_repo()), cache_dir=tmp_path / "hub", endpoint=dead, token=False)
    assert "internet connection" in str(info.value)

    # A model that finished downloading earlier is still usable while the Hub is down.
    snapshot = write_hub_cache(tmp_path / "hub", tiny_repo())
    assert download_model(known(tiny_repo()), cache_dir=tmp_path / "hub", endpoint=dead, token=False) == snapshot
