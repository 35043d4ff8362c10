"""DAVIS download helper: offline message, resume with Range, checksum, safe extraction. No real download."""

from __future__ import annotations

import hashlib
import io
import urllib.error
import zipfile
from pathlib import Path

import pytest

import dgmpm_lite.data.download as dl
from dgmpm_lite.data import download_davis
from dgmpm_lite.data.download import safe_extract


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("DAVIS/JPEGImages/480p/cat/00000.jpg", b"jpegdata" * 100)
        zf.writestr("DAVIS/Annotations/480p/cat/00000.png", b"pngdata" * 100)
        zf.writestr("DAVIS/ImageSets/2017/train.txt", "cat\n")
    return buf.getvalue()


class _Resp(io.BytesIO):
    def __init__(self, data: bytes, status: int, total: int) -> None:
        super().__init__(data)
        self.status = status
        self.headers = {"Content-Length": str(total)}

    def getcode(self) -> int:
        return self.status


def test_unreachable_url_gives_clear_error(tmp_path: Path) -> None:
    # port 9 (discard) on localhost: refused at once, no internet involved
    with pytest.raises(ConnectionError, match="needs internet") as info:
        download_davis(tmp_path, url="http://127.0.0.1:9/DAVIS-2017-trainval-480p.zip", timeout=2, progress=False)
    assert "JPEGImages" in str(info.value) and str(tmp_path) in str(info.value)
    assert not (tmp_path / "DAVIS").exists()


def test_offline_via_monkeypatched_urlopen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*a, **k):  # type: ignore[no-untyped-def]
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(dl.urllib.request, "urlopen", boom)
    with pytest.raises(ConnectionError, match="needs internet"):
        download_davis(tmp_path, progress=False)


def test_resume_checksum_and_extract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _zip_bytes()
    half = len(data) // 2
    calls: list[dict] = []

    def fake(req, timeout=None):  # type: ignore[no-untyped-def]
        headers = dict(req.header_items())
        calls.append(headers)
        rng = headers.get("Range")
        if rng is None:  # first attempt: the connection drops half-way
            return _Resp(data[:half], 200, len(data))
        start = int(rng.split("=")[1].rstrip("-"))
        return _Resp(data[start:], 206, len(data) - start)

    monkeypatch.setattr(dl.urllib.request, "urlopen", fake)
    url = "https://example.invalid/DAVIS-2017-trainval-480p.zip"
    with pytest.raises(ConnectionError, match="stopped early"):
        download_davis(tmp_path, url=url, progress=False)
    part = tmp_path / "DAVIS-2017-trainval-480p.zip.part"
    assert part.stat().st_size == half
    digest = hashlib.sha256(data).hexdigest()
    res = download_davis(tmp_path, url=url, sha256=digest, progress=False)
    assert calls[-1]["Range"] == f"bytes={half}-"
    assert res.verified and res.sha256 == digest and res.downloaded
    assert (res.root / "JPEGImages" / "480p" / "cat" / "00000.jpg").read_bytes() == b"jpegdata" * 100
    # already there: no network at all
    monkeypatch.setattr(dl.urllib.request, "urlopen", lambda *a, **k: pytest.fail("network used"))
    again = download_davis(tmp_path, url=url, progress=False)
    assert again.root == res.root and not again.downloaded


def test_checksum_none_reports_and_mismatch_refuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _zip_bytes()
    monkeypatch.setattr(dl.urllib.request, "urlopen", lambda req, timeout=None: _Resp(data, 200, len(data)))
    url = "https://example.invalid/x.zip"
    res = download_davis(tmp_path / "a", url=url, progress=False)
    assert res.sha256 == hashlib.sha256(data).hexdigest() and not res.verified
    with pytest.raises(ValueError, match="checksum mismatch"):
        download_davis(tmp_path / "b", url=url, sha256="0" * 64, progress=False)
    assert (tmp_path / "b" / "x.zip.bad").exists() and not (tmp_path / "b" / "DAVIS").exists()


def test_safe_extract_refuses_escaping_paths(tmp_path: Path) -> None:
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("ok.txt", "fine")
        zf.writestr("../escape.txt", "bad")
    with pytest.raises(ValueError, match="outside"):
        safe_extract(z, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "out" / "ok.txt").exists()
