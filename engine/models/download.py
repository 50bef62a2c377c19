"""Download a known model into the Hugging Face cache, with byte progress, cancel and resume.

huggingface_hub 2.4 drives the cache layout, and Pinframe uses it for everything except moving
the bytes: its downloader writes each file to a process-unique temporary name and deletes it
when the download fails or is interrupted (see ``_download_to_tmp_and_move``), so a cancelled
or crashed 30 GB download would start again from zero. Here each file streams into
``blobs/<sha256>.pinframe-partial`` in the cache, resumes with an HTTP ``Range`` request,
is checked against the Hub's checksum, and is renamed to ``blobs/<etag>``, the name
huggingface_hub expects. A final ``snapshot_download`` then finds every blob present and only
writes the snapshot links, the ``refs/`` entry and the cached file list, exactly as it would
after downloading them itself. diffusers and :func:`find_in_cache` read that layout offline.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2  # huggingface_hub's own HTTP client: its exceptions are what network failures raise
from filelock import Timeout  # raised by huggingface_hub's WeakFileLock
from huggingface_hub import HfApi, constants, get_hf_file_metadata, get_token, hf_hub_url, snapshot_download
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
    RevisionResolutionError,
)
from huggingface_hub.file_download import repo_folder_name
from huggingface_hub.hf_api import RepoFile
from huggingface_hub.utils import WeakFileLock, build_hf_headers, get_session, hf_raise_for_status
from tqdm.auto import tqdm

from engine.errors import EngineError, JobCancelled, ModelFolderError
from engine.models.registry import KnownModel, check_snapshot, find_in_cache, select_files

# (done_bytes, total_bytes); called from the downloading thread.
ProgressCallback = Callable[[int, int], None]

PARTIAL_SUFFIX = ".pinframe-partial"
_CHUNK_BYTES = 1 << 20
_RETRIES = 5  # consecutive failed attempts on one file without a single new byte
_RETRY_WAIT_S = 1.0  # times the attempt number
_RETRY_STATUS = (408, 429, 500, 502, 503, 504)
# Left free after the download: a full disk breaks far more than the download.
_DISK_HEADROOM_BYTES = 256 * 1024 * 1024

OFFLINE_MESSAGE = "offline mode is on (HF_HUB_OFFLINE=1); unset it to download, or add a local folder"


def offline_mode() -> bool:
    """huggingface_hub reads HF_HUB_OFFLINE once at import; the environment may have changed since."""
    env = os.environ.get("HF_HUB_OFFLINE", "")
    return bool(constants.HF_HUB_OFFLINE) or env.upper() in constants.ENV_VARS_TRUE_VALUES


def download_model(
    model: KnownModel,
    *,
    cache_dir: str | Path | None = None,
    on_progress: ProgressCallback | None = None,
    cancel_event: threading.Event | None = None,
    token: str | bool | None = None,
    endpoint: str | None = None,
) -> Path:
    """Fetch ``model``'s selected files into the Hub cache and return the validated snapshot folder.

    Resumes whatever an earlier, interrupted call left. ``token`` and ``endpoint`` default to
    huggingface_hub's (the saved login or HF_TOKEN; HF_ENDPOINT). Raises JobCancelled when
    ``cancel_event`` is set (the partial file stays for the next call), and EngineError with a
    message a person can act on for everything else.
    """
    cache = Path(cache_dir).expanduser() if cache_dir is not None else Path(constants.HF_HUB_CACHE)
    cancel = cancel_event or threading.Event()
    if offline_mode():
        status = find_in_cache(model, cache)
        if status.complete and status.path is not None:
            return status.path
        raise EngineError(f"Can't download {model.id}: {OFFLINE_MESSAGE}.")
    _check_cancelled(cancel)
    hub = _Hub(model, cache, token, endpoint)
    try:
        return hub.run(on_progress, cancel)
    except (JobCancelled, EngineError):
        raise
    except (httpx2.TransportError, RevisionResolutionError, OfflineModeIsEnabled) as err:
        # The Hub is unreachable, yet an earlier download may have finished: use it, like huggingface_hub does.
        status = find_in_cache(model, cache)
        if status.complete and status.path is not None:
            return status.path
        raise _explain(err, model, cache, token, hub.endpoint) from err
    except (HfHubHTTPError, OSError) as err:
        raise _explain(err, model, cache, token, hub.endpoint) from err


@dataclass(frozen=True)
class _RemoteFile:
    path: str
    size: int
    sha256: str | None  # LFS files: the Hub's checksum, also the blob's ETag
    git_oid: str | None  # regular files: the git blob id, also their ETag

    @property
    def content_id(self) -> str:
        return self.sha256 or self.git_oid or hashlib.sha256(self.path.encode()).hexdigest()


class _Progress:
    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total = total
        self.done = 0
        self._callback = callback

    def add(self, n: int) -> None:
        self.done += n
        if self._callback is not None:
            self._callback(min(self.done, self.total), self.total)


class _Checksum:
    """Hashes a file as its bytes arrive (prefix from disk on resume) so nothing is read twice."""

    def __init__(self, f: _RemoteFile) -> None:
        self._file = f
        self.fed = 0
        self._hash: Any = None  # a hashlib object, or None when the Hub gives no checksum for the file
        self.reset()

    def reset(self) -> None:
        self.fed = 0
        if self._file.sha256:
            self._hash = hashlib.sha256()
        elif self._file.git_oid and len(self._file.git_oid) == 40:
            # A git blob id is sha1("blob <size>\0" + content).
            self._hash = hashlib.sha1(f"blob {self._file.size}\0".encode(), usedforsecurity=False)
        else:
            self._hash = None

    def update(self, data: bytes) -> None:
        if self._hash is not None:
            self._hash.update(data)
        self.fed += len(data)

    def catch_up(self, partial: Path, upto: int) -> None:
        if self.fed > upto:  # the partial file shrank behind our back: hash it again from the start
            self.reset()
        if self.fed == upto:
            return
        with partial.open("rb") as f:
            f.seek(self.fed)
            while self.fed < upto:
                data = f.read(min(_CHUNK_BYTES, upto - self.fed))
                if not data:
                    break
                self.update(data)

    def matches(self) -> bool:
        if self._hash is None:
            return True
        return self._hash.hexdigest() == (self._file.sha256 or self._file.git_oid)


class _RetryFile(Exception):
    """The transfer stopped early in a way that a fresh attempt can fix (expired link, short body)."""


class _Hub:
    def __init__(self, model: KnownModel, cache: Path, token: str | bool | None, endpoint: str | None) -> None:
        self.model = model
        self.cache = cache
        self.token = token
        self.endpoint = (endpoint or constants.ENDPOINT).rstrip("/")
        self.api = HfApi(endpoint=self.endpoint, token=token)
        self.storage = cache / repo_folder_name(repo_id=model.repo_id, repo_type="model")

    def run(self, on_progress: ProgressCallback | None, cancel: threading.Event) -> Path:
        model = self.model
        # One plain request first: when the Hub is unreachable it fails at once, where the
        # paginated calls below would back off and retry for ~20 s before giving up.
        commit = self.api.repo_info(model.repo_id, revision=model.revision).sha
        if not commit:
            raise EngineError(f"The Hub sent no commit for {model.repo_id} at '{model.revision}'. Try again later.")
        tree = self.api.list_repo_tree(model.repo_id, recursive=True, revision=commit)
        by_path = {f.path: f for f in tree if isinstance(f, RepoFile)}
        wanted = select_files(model, by_path)
        if not wanted:
            raise EngineError(
                f"None of the files in {model.repo_id} match what Pinframe fetches for {model.id}; the repository "
                "layout may have changed. Download it yourself in diffusers format and add it as a local folder."
            )
        files = [_remote_file(by_path[p]) for p in wanted]
        snapshot = self.storage / "snapshots" / commit
        blobs = self.storage / "blobs"

        pending: list[_RemoteFile] = []
        already = 0
        for f in files:
            if (snapshot / f.path).exists() or (blobs / f.content_id).exists():
                already += f.size
                continue
            pending.append(f)
            already += _size_or_zero(blobs / (f.content_id + PARTIAL_SUFFIX))
        total = sum(f.size for f in files)
        self._check_disk_space(total - already)

        progress = _Progress(total, on_progress)
        progress.add(already)
        for f in pending:
            _check_cancelled(cancel)
            self._fetch(f, commit, blobs, progress, cancel)
        _check_cancelled(cancel)

        # Every blob is in place, so this only links the snapshot and writes the ref and the cached
        # file list. Should the revision have moved on meanwhile, it downloads the new files itself.
        folder = snapshot_download(
            model.repo_id,
            revision=model.revision,
            cache_dir=self.cache,
            allow_patterns=[glob.escape(p) for p in wanted],
            token=self.token,
            endpoint=self.endpoint,
            tqdm_class=_QuietTqdm,
            max_workers=4,
        )
        try:
            check_snapshot(model, folder)  # a pipeline folder, or a LoRA file: whatever the model is
        except ModelFolderError as err:
            raise ModelFolderError(f"{model.id} downloaded, but the folder isn't usable: {err}") from err
        progress.add(0)
        return Path(folder)

    def _fetch(self, f: _RemoteFile, commit: str, blobs: Path, progress: _Progress, cancel: threading.Event) -> None:
        blobs.mkdir(parents=True, exist_ok=True)
        partial = blobs / (f.content_id + PARTIAL_SUFFIX)
        url = hf_hub_url(self.model.repo_id, f.path, revision=commit, endpoint=self.endpoint)
        # Same lock huggingface_hub takes for this blob, so neither writes it while the other does.
        lock = self.cache / ".locks" / self.storage.name / f"{f.content_id}.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        checksum = _Checksum(f)
        failures = 0
        # Invariant: `progress` counts exactly the bytes in `partial` for this file.
        with _blob_lock(lock, cancel):
            while True:
                _check_cancelled(cancel)
                before = _size_or_zero(partial)
                try:
                    meta = get_hf_file_metadata(url, token=self.token, endpoint=self.endpoint)
                    blob = blobs / (meta.etag or f.content_id)
                    if blob.exists():  # another process finished it meanwhile
                        partial.unlink(missing_ok=True)
                        progress.add(f.size - before)
                        return
                    if before > f.size:  # not this file's bytes: start over
                        partial.unlink()
                        progress.add(-before)
                        checksum.reset()
                        before = 0
                    checksum.catch_up(partial, before)
                    if before < f.size:
                        self._stream(f, url, meta.location, partial, before, checksum, progress, cancel)
                    if _size_or_zero(partial) < f.size:
                        raise _RetryFile("the server closed the connection early")
                    break
                except (httpx2.TransportError, HfHubHTTPError, _RetryFile) as err:
                    if not _transient(err):
                        raise
                    failures = 0 if _size_or_zero(partial) > before else failures + 1
                    if failures >= _RETRIES:
                        if isinstance(err, _RetryFile):
                            raise EngineError(
                                f"Downloading {f.path} of {self.model.id} keeps stopping early ({err}). Check your "
                                "connection and try again; the download resumes where it stopped."
                            ) from err
                        raise
                    if cancel.wait(_RETRY_WAIT_S * (failures + 1)):
                        raise JobCancelled("cancelled") from err
            if not checksum.matches():
                partial.unlink(missing_ok=True)
                progress.add(-f.size)
                raise EngineError(
                    f"{f.path} of {self.model.id} arrived damaged (its checksum doesn't match the Hub's), so the "
                    "partial file was deleted. Download the model again."
                )
            os.replace(partial, blob)

    def _stream(
        self,
        f: _RemoteFile,
        url: str,
        location: str,
        partial: Path,
        start: int,
        checksum: _Checksum,
        progress: _Progress,
        cancel: threading.Event,
    ) -> None:
        """Append the bytes from ``start`` on to ``partial``, counting each chunk into ``progress``."""
        headers = build_hf_headers(token=self.token)
        if not _keeps_auth(url, location):
            # Signed CDN links carry their own authorization; the Hub token must not leave the Hub.
            headers.pop("authorization", None)
        headers["Accept-Encoding"] = "identity"  # byte offsets must be offsets into the file itself
        if start:
            headers["Range"] = f"bytes={start}-"
        with get_session().stream(
            "GET", location, headers=headers, timeout=constants.HF_HUB_DOWNLOAD_TIMEOUT
        ) as response:
            if response.status_code in (403, 410) and location != url:
                raise _RetryFile("the download link expired")
            hf_raise_for_status(response)
            mode = "ab"
            if start and response.status_code != 206:
                # The server ignored the Range header and sends the whole file: start over.
                mode = "wb"
                progress.add(-start)
                checksum.reset()
                start = 0
            have = start
            with partial.open(mode) as out:
                for chunk in response.iter_bytes(_CHUNK_BYTES):
                    if have + len(chunk) > f.size:
                        raise EngineError(
                            f"The Hub sent more bytes than expected for {f.path} of {self.model.id}. Try again later."
                        )
                    out.write(chunk)
                    checksum.update(chunk)
                    have += len(chunk)
                    progress.add(len(chunk))
                    if cancel.is_set():
                        break
        _check_cancelled(cancel)

    def _check_disk_space(self, needed: int) -> None:
        free = _free_bytes(self.cache)
        if needed + _DISK_HEADROOM_BYTES > free:
            raise EngineError(
                f"Not enough disk space for {self.model.id}: it needs {_gb(needed)} more (about "
                f"{_gb(self.model.size_bytes)} in all) but {self.cache} has {_gb(free)} free. Free some space, or "
                "point HF_HUB_CACHE at a bigger disk, then try again."
            )


class _QuietTqdm(tqdm):
    """snapshot_download only links files here; its progress bars would just clutter the console."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs["disable"] = True
        super().__init__(*args, **kwargs)


@contextmanager
def _blob_lock(path: Path, cancel: threading.Event) -> Iterator[None]:
    """huggingface_hub's lock for a blob, acquired in short tries so a cancel isn't stuck behind it."""
    while True:
        _check_cancelled(cancel)
        lock = WeakFileLock(path, timeout=1.0)
        try:
            lock.__enter__()
        except Timeout:
            continue
        break
    try:
        yield
    finally:
        lock.__exit__(None, None, None)


def _remote_file(entry: RepoFile) -> _RemoteFile:
    if entry.lfs is not None:
        return _RemoteFile(entry.path, int(entry.lfs.size), entry.lfs.sha256, None)
    return _RemoteFile(entry.path, int(entry.size), None, entry.blob_id)


def _transient(err: Exception) -> bool:
    if isinstance(err, _RetryFile):
        return True
    if isinstance(err, httpx2.ProxyError):
        return False  # a misconfigured proxy won't fix itself
    if isinstance(err, httpx2.TransportError):
        return True
    if isinstance(err, HfHubHTTPError):
        return err.response is not None and err.response.status_code in _RETRY_STATUS
    return False


def _keeps_auth(url: str, location: str) -> bool:
    a, b = urlsplit(url), urlsplit(location)
    if (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port):
        return True
    return (b.hostname or "").lower() in constants.HF_URL_HOSTS


def _check_cancelled(cancel: threading.Event) -> None:
    if cancel.is_set():
        raise JobCancelled("cancelled")


def _size_or_zero(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _free_bytes(folder: Path) -> int:
    for candidate in (folder, *folder.parents):
        try:
            return shutil.disk_usage(candidate).free
        except OSError:
            continue
    return 0


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 100_000_000 else f"{n / 1e6:.1f} MB"


def _has_token(token: str | bool | None) -> bool:
    if isinstance(token, str):
        return bool(token)
    if token is False:
        return False
    try:
        return get_token() is not None
    except (OSError, ValueError):
        return False


def _explain(err: Exception, model: KnownModel, cache: Path, token: str | bool | None, endpoint: str) -> EngineError:
    """Turn a huggingface_hub / network / disk failure into a message a person can act on."""
    page = f"{endpoint}/{model.repo_id}"
    login = "log in with `hf auth login` (formerly `huggingface-cli login`) or set HF_TOKEN to an access token"
    if isinstance(err, GatedRepoError) or (isinstance(err, RepositoryNotFoundError) and model.gated):
        if _has_token(token):
            return EngineError(
                f"{model.id} is gated and your Hugging Face account hasn't been given access: open {page}, accept "
                f"the licence ({model.licence}) with the account whose token Pinframe uses, then try again."
            )
        return EngineError(
            f"{model.id} is gated: accept its licence ({model.licence}) on {page} while logged in to Hugging Face, "
            f"then {login}, and try again."
        )
    if isinstance(err, RepositoryNotFoundError):
        return EngineError(
            f"The Hub has no model repository {model.repo_id} (or it is private). Check the id; if it is private, "
            f"{login}."
        )
    if isinstance(err, RevisionNotFoundError):
        return EngineError(f"{model.repo_id} has no revision '{model.revision}'. Check the revision in the registry.")
    if isinstance(err, RemoteEntryNotFoundError):
        return EngineError(f"A file of {model.repo_id} disappeared from the Hub during the download; try again.")
    if isinstance(err, OfflineModeIsEnabled):
        return EngineError(f"Can't download {model.id}: {OFFLINE_MESSAGE}.")
    if isinstance(err, httpx2.ProxyError):
        return EngineError(
            f"The proxy refused the connection to {endpoint} while downloading {model.id} ({err}). Check the "
            "HTTPS_PROXY / HTTP_PROXY settings, then try again."
        )
    if isinstance(err, httpx2.TransportError | RevisionResolutionError):
        return EngineError(
            f"Couldn't reach the Hugging Face Hub at {endpoint} to download {model.id} ({type(err).__name__}). "
            "Check your internet connection or proxy, then try again: finished files are kept and the current one "
            "resumes where it stopped."
        )
    if isinstance(err, HfHubHTTPError):
        status = err.response.status_code if err.response is not None else None
        if status in (401, 403):
            return EngineError(f"The Hub refused access to {model.repo_id} ({status}). Open {page}; {login}.")
        return EngineError(
            f"The Hub answered with an error ({status}) while downloading {model.id}. Try again later; the "
            "download resumes where it stopped."
        )
    if isinstance(err, OSError):
        if err.errno == 28:  # ENOSPC
            return EngineError(
                f"The disk holding {cache} filled up while downloading {model.id}. Free some space and try again; "
                "the download resumes where it stopped."
            )
        return EngineError(
            f"Couldn't write the download of {model.id} to {cache}: {err.strerror or err}. Check that the folder is "
            "writable and has free space, or point HF_HUB_CACHE elsewhere."
        )
    return EngineError(f"Downloading {model.id} failed: {err}")
