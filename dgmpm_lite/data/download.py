"""Download helper for the official DAVIS-2017 trainval 480p archive (for users who are online).

The paper fine-tunes and evaluates on DAVIS-2017 (section IV-A/B). The data is released under
CC BY-NC 4.0 and cannot ship with this project, so on Colab or a laptop with internet::

    from dgmpm_lite.data import download_davis, DavisDataset
    root = download_davis("data")               # ~800 MB, resumable
    davis = DavisDataset(root, split="val")

What it does: streams the archive to ``<data_root>/<name>.zip.part`` with a tqdm progress
bar, resumes an interrupted download with an HTTP ``Range`` request, checks the checksum,
renames the file and extracts it (refusing any member whose path would escape the data
root). It is never called by tests or smoke-mode notebooks.

Checksum: this project does not publish a checksum of the archive because it could not
download it when it was written (offline build). ``sha256=None`` (default) therefore means
"compute it and report it" (a log line and the returned :class:`DownloadResult` give it);
pin it by passing the value you trust, e.g. ``download_davis(root, sha256="...")``, and a
mismatch then raises ``ValueError`` and keeps nothing.

Offline, a ``ConnectionError`` explains that the download needs internet and where to put
the data by hand.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from .io import PathLike

log = logging.getLogger(__name__)

DAVIS_2017_TRAINVAL_480P_URL = "https://data.vision.ee.ethz.ch/csergi/share/davis/DAVIS-2017-trainval-480p.zip"
"""Official archive of DAVIS-2017 train+val at 480p (https://davischallenge.org/davis2017/code.html)."""

DAVIS_2017_TRAINVAL_480P_SHA256: str | None = None
"""Unknown here (the project was built offline): ``None`` means "report the computed hash"."""

_CHUNK = 1 << 20


@dataclass
class DownloadResult:
    """Where the data is and what was checked."""

    root: Path  # the extracted DAVIS folder (contains JPEGImages/, Annotations/, ImageSets/)
    archive: Path | None  # the archive (None when it was deleted after extraction)
    sha256: str | None  # computed hash (None when nothing was downloaded or hashed)
    verified: bool  # True when the computed hash matched an expected one
    downloaded: bool  # False when the data was already there


def _manual_hint(url: str, data_root: Path) -> str:
    return (
        f"Downloading DAVIS needs internet access, and {url} could not be reached. "
        f"Download the archive on a machine that is online, then either put the zip at "
        f"{data_root / Path(url).name} (it will be checked and extracted) or extract it yourself so that "
        f"{data_root / 'DAVIS' / 'JPEGImages' / '480p'} exists, and pass {data_root / 'DAVIS'} to DavisDataset."
    )


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _fetch(url: str, part: Path, timeout: float, progress: bool) -> None:
    """Stream ``url`` into ``part``, resuming from its current size with an HTTP Range request."""

    start = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"User-Agent": "dgmpm_lite"})
    if start:
        req.add_header("Range", f"bytes={start}-")
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:  # range not satisfiable: the .part is already complete
            return
        raise ConnectionError(f"the server answered HTTP {exc.code} for {url}") from exc
    with resp:
        status = getattr(resp, "status", None) or resp.getcode()
        if start and status != 206:  # the server ignored Range: start again
            start = 0
        length = resp.headers.get("Content-Length")
        total = (int(length) + start) if length is not None else None
        mode = "ab" if start else "wb"
        with (
            open(part, mode) as f,
            tqdm(
                total=total,
                initial=start,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=part.name,
                disable=not progress,
            ) as bar,
        ):
            while True:
                chunk = resp.read(_CHUNK)
                if not chunk:
                    break
                f.write(chunk)
                bar.update(len(chunk))
    if total is not None and part.stat().st_size < total:
        raise ConnectionError(
            f"the download of {url} stopped early ({part.stat().st_size} of {total} bytes); run it again to resume"
        )


def safe_extract(archive: PathLike, dest: PathLike) -> list[Path]:
    """Extract a zip into ``dest``, refusing absolute paths, ``..`` and symbolic links that escape it."""
    dest = Path(dest).resolve()
    out: list[Path] = []
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        for m in members:
            target = (dest / m.filename).resolve()
            if m.filename.startswith(("/", "\\")) or (target != dest and dest not in target.parents):
                raise ValueError(f"refusing to extract {m.filename!r} from {archive}: it would land outside {dest}")
            if (m.external_attr >> 16) & 0o170000 == 0o120000:
                raise ValueError(f"refusing to extract the symbolic link {m.filename!r} from {archive}")
        dest.mkdir(parents=True, exist_ok=True)
        for m in members:
            target = dest / m.filename
            if m.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                out.append(target)
                continue  # never overwrite a file that is already there
            with zf.open(m) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
            out.append(target)
    return out


def download_davis(
    data_root: PathLike = "data",
    url: str = DAVIS_2017_TRAINVAL_480P_URL,
    sha256: str | None = DAVIS_2017_TRAINVAL_480P_SHA256,
    timeout: float = 10.0,
    extract: bool = True,
    keep_archive: bool = True,
    progress: bool = True,
) -> DownloadResult:
    """Download (resumable) and extract the DAVIS-2017 trainval 480p archive into ``data_root``.

    Returns a :class:`DownloadResult`; ``result.root`` is ``<data_root>/DAVIS``. Skips the
    download when that folder already holds ``JPEGImages/480p``, and the network when the
    archive is already complete in ``data_root``. ``sha256=None`` computes and logs the hash
    instead of checking it. Raises ``ConnectionError`` offline (with instructions),
    ``ValueError`` on a checksum mismatch (the bad file is renamed ``*.bad``, never extracted).
    """
    data_root = Path(data_root)
    davis_dir = data_root / "DAVIS"
    if (davis_dir / "JPEGImages" / "480p").is_dir():
        return DownloadResult(davis_dir, None, None, False, False)
    data_root.mkdir(parents=True, exist_ok=True)
    archive = data_root / Path(url).name
    part = archive.with_name(archive.name + ".part")
    downloaded = False
    if not archive.exists():
        try:
            _fetch(url, part, timeout, progress)
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            if isinstance(exc, ConnectionError) and "stopped early" in str(exc):
                raise
            raise ConnectionError(f"{_manual_hint(url, data_root)} (error: {exc})") from exc
        part.replace(archive)
        downloaded = True
    digest = _hash_file(archive)
    verified = False
    if sha256 is not None:
        if digest.lower() != sha256.lower():
            bad = archive.with_name(archive.name + ".bad")
            archive.replace(bad)
            raise ValueError(
                f"checksum mismatch for {archive}: expected sha256 {sha256}, got {digest}; "
                f"the file was renamed to {bad}"
            )
        verified = True
    else:
        log.warning("sha256 of %s is %s (not verified: pass sha256=... to pin it)", archive, digest)
    if extract:
        safe_extract(archive, data_root)
        if not (davis_dir / "JPEGImages").is_dir():
            raise ValueError(f"{archive} did not contain a DAVIS/JPEGImages folder; is it the right archive?")
        if not keep_archive:
            archive.unlink()
            archive = None  # type: ignore[assignment]
    return DownloadResult(davis_dir, archive, digest, verified, downloaded)
