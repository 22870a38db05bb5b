"""get_file: lookup order, atomic verified downloads (file:// URLs), safe extraction.

No test touches the network: `urlopen` is replaced by one that only serves file:// URLs.
"""

import hashlib
import io
import os
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from layerkit.utils import file_utils
from layerkit.utils.file_utils import DownloadError, get_file


@pytest.fixture(autouse=True, name="offline")
def isolated(tmp_path, monkeypatch):
    """Isolated data homes and system folder, and a urlopen serving file:// only (records calls).

    Shared with test_datasets.py, which imports it.
    """
    for var, sub in (("LAYERKIT_HOME", "lk"), ("KERAS_HOME", "kh"), ("HOME", "home")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # Keras's /tmp fallback
    fashion = os.path.join("datasets", "fashion-mnist")
    monkeypatch.setattr(file_utils, "SYSTEM_DIRS", {fashion: (str(tmp_path / "system"),)})
    calls = []

    def fake_urlopen(url, timeout=None):
        calls.append(url)
        if not url.startswith("file://"):
            raise urllib.error.URLError("network disabled in tests")
        return urllib.request.urlopen(url, timeout=timeout)

    monkeypatch.setattr(file_utils, "urlopen", fake_urlopen)
    return calls


def _served(tmp_path, name, data):
    """Writes `data` under tmp/served/ and returns (file:// URL, sha256, md5)."""
    src = tmp_path / "served" / name
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(data)
    return src.as_uri(), hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest()


def _tar_bytes(entries):
    """entries: (name, bytes) files or (name, ('sym'|'hard', target)) links."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, payload in entries:
            info = tarfile.TarInfo(name)
            if isinstance(payload, tuple):
                info.type = tarfile.SYMTYPE if payload[0] == "sym" else tarfile.LNKTYPE
                info.linkname = payload[1]
                tar.addfile(info)
            else:
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


def _zip_bytes(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, payload in entries:
            zf.writestr(name, payload)
    return buf.getvalue()


def _leftovers(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.startswith("."))


def test_download_lands_in_cache_dir_with_verified_hash(tmp_path, offline):
    url, sha, _ = _served(tmp_path, "data.bin", b"payload" * 100)
    path = get_file(origin=url, file_hash=sha, cache_dir=tmp_path / "c")
    assert path == str(tmp_path / "c" / "datasets" / "data.bin")
    assert Path(path).read_bytes() == b"payload" * 100
    assert _leftovers(tmp_path / "c" / "datasets") == []
    assert offline == [url]


def test_md5_hash_argument_and_explicit_algorithm(tmp_path):
    url, sha, md5 = _served(tmp_path, "m.txt", b"abc")
    assert get_file("m.txt", url, md5_hash=md5, cache_dir=tmp_path / "a").endswith("m.txt")
    get_file("m.txt", url, file_hash=sha, hash_algorithm="sha256", cache_dir=tmp_path / "b")
    with pytest.raises(ValueError, match="incomplete or corrupted"):
        get_file("m.txt", url, file_hash=md5, hash_algorithm="sha256", cache_dir=tmp_path / "c")


def test_bad_download_hash_keeps_nothing(tmp_path):
    url, _, _ = _served(tmp_path, "x.bin", b"abc")
    with pytest.raises(ValueError, match=r"expected 0{64}"):
        get_file("x.bin", url, file_hash="0" * 64, cache_dir=tmp_path / "c")
    assert list((tmp_path / "c" / "datasets").iterdir()) == []


def test_interrupted_download_leaves_no_partial_file(tmp_path, monkeypatch):
    class Broken:
        headers = {"Content-Length": "100"}

        def __init__(self):
            self.sent = False

        def read(self, n):
            if self.sent:
                raise OSError("connection reset")
            self.sent = True
            return b"x" * 10

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(file_utils, "urlopen", lambda url, timeout=None: Broken())
    with pytest.raises(DownloadError, match="connection reset"):
        get_file("f.bin", "https://example.invalid/f.bin", cache_dir=tmp_path / "c")
    assert list((tmp_path / "c" / "datasets").iterdir()) == []


def test_progress_bar_goes_to_stderr(tmp_path, capsys):
    url, _, _ = _served(tmp_path, "p.bin", b"z" * 200_000)
    get_file("p.bin", url, cache_dir=tmp_path / "c")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "p.bin: [" in captured.err and "100.0%" in captured.err


def test_offline_error_names_file_url_and_folders(tmp_path):
    url = "https://example.invalid/data/thing.csv"
    with pytest.raises(DownloadError) as info:
        get_file("thing.csv", url, cache_dir=tmp_path / "c")
    message = str(info.value)
    assert "'thing.csv'" in message and url in message and "network disabled" in message
    for folder in ("c", "lk", "kh", "home/.keras", "tmp/.keras"):
        assert str(tmp_path / folder / "datasets") in message
    assert isinstance(info.value, OSError)


def test_placed_file_with_other_hash_warns_and_is_kept(tmp_path, offline):
    folder = tmp_path / "kh" / "datasets"
    folder.mkdir(parents=True)
    (folder / "w.bin").write_bytes(b"mine")
    with pytest.warns(UserWarning, match="used as placed"):
        path = get_file("w.bin", "https://example.invalid/w.bin", file_hash="1" * 64)
    assert path == str(folder / "w.bin") and Path(path).read_bytes() == b"mine"
    assert offline == []


def test_force_download_replaces_placed_file(tmp_path):
    url, sha, _ = _served(tmp_path, "w.bin", b"fresh")
    folder = tmp_path / "c" / "datasets"
    folder.mkdir(parents=True)
    (folder / "w.bin").write_bytes(b"stale")
    path = get_file("w.bin", url, file_hash=sha, cache_dir=tmp_path / "c", force_download=True)
    assert Path(path).read_bytes() == b"fresh"


def test_search_order_cache_dir_then_layerkit_home_then_keras_home_then_home(tmp_path):
    order = [
        tmp_path / "c",
        tmp_path / "lk",
        tmp_path / "kh",
        tmp_path / "home" / ".keras",
        tmp_path / "tmp" / ".keras",
    ]
    for root in order:
        (root / "datasets").mkdir(parents=True)
        (root / "datasets" / "f.txt").write_text(root.name)
    url = "https://example.invalid/f.txt"
    for root in order:
        assert get_file("f.txt", url, cache_dir=tmp_path / "c") == str(root / "datasets" / "f.txt")
        os.remove(root / "datasets" / "f.txt")


def test_absolute_fname_and_absolute_cache_subdir_are_used_as_is(tmp_path):
    target = tmp_path / "anywhere" / "file.dat"
    target.parent.mkdir()
    target.write_bytes(b"1")
    assert get_file(str(target), "https://example.invalid/file.dat") == str(target)
    assert get_file(
        "file.dat", "https://x.invalid/file.dat", cache_subdir=str(target.parent)
    ) == str(target)


def test_argument_errors():
    with pytest.raises(ValueError, match="origin"):
        get_file("a.txt")
    with pytest.raises(ValueError, match="cannot parse a file name"):
        get_file(origin="https://example.invalid/")


@pytest.mark.parametrize(
    "fname, extract, untar, archive, folder",
    [
        ("pack", True, False, "pack_archive", "pack"),
        ("pack.tar.gz", True, False, "pack.tar.gz", "pack_extracted"),
        (None, True, False, "pack.tar.gz_archive", "pack.tar.gz"),
        ("pack", False, True, "pack_archive", "pack"),
    ],
    ids=["no-dot", "dotted", "from-origin", "untar"],
)
def test_extraction_layout_matches_keras(tmp_path, fname, extract, untar, archive, folder):
    import keras

    url, _, _ = _served(tmp_path, "pack.tar.gz", _tar_bytes([("top/a.txt", b"A")]))
    (tmp_path / "keras").mkdir()  # Keras falls back to /tmp/.keras for a missing cache_dir
    ours = get_file(fname, url, extract=extract, untar=untar, cache_dir=tmp_path / "ours")
    theirs = keras.utils.get_file(
        fname, url, extract=extract, untar=untar, cache_dir=str(tmp_path / "keras")
    )
    assert Path(ours).relative_to(tmp_path / "ours") == Path(theirs).relative_to(tmp_path / "keras")
    assert ours == str(tmp_path / "ours" / "datasets" / folder)
    assert (Path(ours) / "top" / "a.txt").read_bytes() == b"A"
    assert (tmp_path / "ours" / "datasets" / archive).is_file()
    assert sorted(os.listdir(tmp_path / "ours" / "datasets")) == sorted(
        os.listdir(tmp_path / "keras" / "datasets")
    )


def test_extracted_folder_is_reused_without_archive(tmp_path, offline):
    url, _, _ = _served(tmp_path, "z.zip", _zip_bytes([("inner/f.txt", b"zip!")]))
    path = get_file("z", url, extract=True, cache_dir=tmp_path / "c")
    assert (Path(path) / "inner" / "f.txt").read_bytes() == b"zip!"
    os.remove(tmp_path / "c" / "datasets" / "z_archive")
    assert get_file("z", url, extract=True, cache_dir=tmp_path / "c") == path
    assert offline == [url]


def test_non_archive_warns(tmp_path):
    url, _, _ = _served(tmp_path, "plain.txt", b"just text")
    with pytest.warns(UserWarning, match="could not extract"):
        get_file("plain", url, extract=True, cache_dir=tmp_path / "c")


@pytest.mark.parametrize(
    "entries",
    [
        [("ok.txt", b"1"), ("../evil.txt", b"x")],
        [("/tmp/abs_evil.txt", b"x")],
        [("dir/../../evil.txt", b"x")],
        [("link", ("sym", "../../outside"))],
        [("link", ("sym", "/etc/passwd"))],
        [("sub/link", ("sym", "../x"))],
        [("hard", ("hard", "../outside"))],
    ],
    ids=[
        "dotdot",
        "absolute",
        "nested-dotdot",
        "symlink-up",
        "symlink-abs",
        "symlink-dotdot",
        "hardlink-up",
    ],
)
def test_unsafe_tar_members_are_refused(tmp_path, entries):
    archive = tmp_path / "bad.tar.gz"
    archive.write_bytes(_tar_bytes(entries))
    target = tmp_path / "deep" / "target"
    with pytest.raises(ValueError, match="Refusing to extract"):
        file_utils.extract_archive(archive, target)
    assert not target.exists() and not (tmp_path / "evil.txt").exists()
    assert not (tmp_path / "deep" / "evil.txt").exists()
    assert _leftovers(tmp_path / "deep") == []


@pytest.mark.parametrize("name", ["../evil.txt", "/abs_evil.txt", "a/../../evil.txt"])
def test_unsafe_zip_members_are_refused(tmp_path, name):
    archive = tmp_path / "bad.zip"
    archive.write_bytes(_zip_bytes([("fine.txt", b"1"), (name, b"x")]))
    with pytest.raises(ValueError, match="Refusing to extract"):
        file_utils.extract_archive(archive, tmp_path / "t", "zip")
    assert not (tmp_path / "t").exists() and not (tmp_path / "evil.txt").exists()


def test_unsafe_archive_through_get_file(tmp_path):
    url, _, _ = _served(tmp_path, "bad.tar.gz", _tar_bytes([("../escape.txt", b"x")]))
    with pytest.raises(ValueError, match="escape.txt"):
        get_file("bad", url, extract=True, cache_dir=tmp_path / "c")
    assert not (tmp_path / "c" / "escape.txt").exists()


def test_safe_links_inside_the_archive_are_kept(tmp_path):
    archive = tmp_path / "ok.tar.gz"
    archive.write_bytes(_tar_bytes([("d/f.txt", b"F"), ("d/alias", ("sym", "f.txt"))]))
    assert file_utils.extract_archive(archive, tmp_path / "t")
    assert (tmp_path / "t" / "d" / "alias").read_bytes() == b"F"


def test_truncated_archive_is_a_clear_value_error(tmp_path):
    data = _tar_bytes([("big.bin", os.urandom(50_000))])
    archive = tmp_path / "cut.tar.gz"
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        file_utils.extract_archive(archive, tmp_path / "t", "tar")
    assert not (tmp_path / "t").exists()


def test_hashes_match_hashlib_and_keras(tmp_path):
    from keras.src.utils import file_utils as keras_file_utils

    path = tmp_path / "h.bin"
    path.write_bytes(b"hash me" * 1000)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    assert file_utils.hash_file(path) == sha
    assert file_utils.hash_file(path, "md5") == md5
    for good in (sha, md5):
        assert file_utils.validate_file(path, good)
        assert keras_file_utils.validate_file(str(path), good)
    assert not file_utils.validate_file(path, "0" * 64)
    with pytest.raises(ValueError, match="hash_algorithm"):
        file_utils.validate_file(path, sha, algorithm="sha1")
