"""Finding, downloading, verifying and extracting data files (`get_file`).

Who owns what:
- `fetch` is the one routine behind `get_file` and every dataset loader: it looks for a
  file in an ordered list of folders, uses the first copy found (a hash that differs from
  the expected one only warns), and downloads into the first writable folder otherwise.
- `download` writes atomically (temp file in the target folder, fsync, `os.replace`) and
  verifies the hash before the file appears under its final name.
- `extract_archive` checks every member of a tar/zip archive before extracting anything
  and refuses absolute paths, `..` components and links that leave the target.
- `data_dirs` lists the folders to search; it is the single place in layerkit that reads
  `LAYERKIT_HOME` / `KERAS_HOME` (the dataset loaders use it through `datasets._cache`).
"""

import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import warnings
import zipfile
import zlib
from urllib.request import urlopen

_CHUNK = 1 << 16
_TIMEOUT_S = 60

# Read-only copies installed by system packages, by cache sub-folder.
SYSTEM_DIRS = {
    os.path.join("datasets", "fashion-mnist"): ("/usr/share/datasets/fashion-mnist",),
}


class DownloadError(OSError):
    """A file was not found locally and could not be downloaded (e.g. no network)."""


def resolve_hasher(algorithm, file_hash=None):
    """Returns a fresh hashlib object for `algorithm` ('sha256', 'md5' or 'auto').

    'auto' picks sha256 for a 64-character `file_hash` and md5 otherwise (Keras's rule).
    """
    if algorithm == "sha256" or (
        algorithm == "auto" and file_hash is not None and len(file_hash) == 64
    ):
        return hashlib.sha256()
    if algorithm in ("md5", "auto"):
        return hashlib.md5()
    raise ValueError(f"hash_algorithm must be 'auto', 'sha256' or 'md5', received {algorithm!r}")


def hash_file(fpath, algorithm="sha256", chunk_size=_CHUNK):
    """Computes the hex digest of a file.

    Args:
        fpath: path of the file.
        algorithm: 'sha256', 'md5', 'auto' (= sha256 here) or a hashlib object.
        chunk_size: bytes read at a time.

    Returns:
        The hex digest string.
    """
    if isinstance(algorithm, str):
        hasher = resolve_hasher("sha256" if algorithm == "auto" else algorithm)
    else:
        hasher = algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=_CHUNK):
    """Returns True when the file's sha256/md5 digest equals `file_hash`."""
    hasher = resolve_hasher(algorithm, file_hash)
    return hash_file(fpath, hasher, chunk_size) == str(file_hash)


class _Progress:
    """A one-line download progress bar on stderr."""

    def __init__(self, name, total, width=30):
        self.name, self.total, self.width = name, total, width
        self.done = 0
        self._last = -1

    def update(self, n):
        self.done += n
        if self.total:
            shown = int(1000 * self.done / self.total)
            if shown == self._last:
                return
            self._last = shown
            filled = int(self.width * self.done / self.total)
            bar = "=" * filled + ">" + " " * (self.width - filled)
            text = f"{self.done / 1e6:.1f}/{self.total / 1e6:.1f} MB"
            sys.stderr.write(f"\r{self.name}: [{bar[: self.width]}] {shown / 10:5.1f}% {text}")
        else:
            sys.stderr.write(f"\r{self.name}: {self.done / 1e6:.1f} MB")
        sys.stderr.flush()

    def close(self):
        sys.stderr.write("\n")
        sys.stderr.flush()


def _stream_to(response, f, name):
    """Copies an HTTP response body into an open file, showing progress."""
    total = int(response.headers.get("Content-Length") or 0) if response.headers else 0
    progress = _Progress(name, total)
    try:
        for chunk in iter(lambda: response.read(_CHUNK), b""):
            f.write(chunk)
            progress.update(len(chunk))
    finally:
        progress.close()


def download(origin, target, file_hash=None, hash_algorithm="auto", digest=None):
    """Downloads `origin` to `target` atomically, verifying its hash first.

    Args:
        origin: the URL.
        target: the final path; its folder must exist.
        file_hash: expected sha256/md5 hex digest, or None for no check.
        hash_algorithm: 'auto', 'sha256' or 'md5'.
        digest: optional callable `path -> hex digest` replacing the file hash (used for
            files whose content, not their compressed bytes, has a known hash).

    Raises:
        DownloadError: the URL could not be fetched; the message says why.
        ValueError: the downloaded file does not match `file_hash` (nothing is kept).
    """
    folder, name = os.path.split(os.path.abspath(target))
    print(f"Downloading data from {origin}", file=sys.stderr)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            try:
                with urlopen(origin, timeout=_TIMEOUT_S) as response:
                    _stream_to(response, f, name)
            except urllib.error.HTTPError as err:
                raise DownloadError(f"HTTP error {err.code} {err.reason}") from err
            except (urllib.error.URLError, OSError) as err:
                raise DownloadError(str(getattr(err, "reason", err))) from err
            f.flush()
            os.fsync(f.fileno())
        if file_hash is not None:
            actual = (
                digest(tmp) if digest else hash_file(tmp, resolve_hasher(hash_algorithm, file_hash))
            )
            if actual != file_hash:
                raise ValueError(
                    f"The file downloaded from {origin} is incomplete or corrupted: its hash "
                    f"is {actual}, expected {file_hash}. Nothing was saved; try again later."
                )
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return target


def writable_dir(dirs):
    """Returns the first folder of `dirs` that exists or can be created and is writable."""
    for folder in dirs:
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    raise PermissionError(
        f"None of these folders is writable: {dirs}. Pass cache_dir= (or set LAYERKIT_HOME) "
        "to a writable folder."
    )


def _offline_message(names, origin, dirs, reason):
    """The single error text for a file that is neither present nor downloadable."""
    where = "\n".join(f"  {d}" for d in dirs)
    aliases = f" (also accepted under the name(s) {', '.join(names[1:])})" if names[1:] else ""
    return (
        f"Could not find {names[0]!r} locally and could not download it from {origin} "
        f"({reason}).\nIf this machine is offline, download that URL elsewhere and put the "
        f"file, named {names[0]!r}{aliases}, into one of these folders:\n{where}"
    )


def _check_placed_file(path, file_hash, hash_algorithm, origin, digest):
    """Warns (never refuses) when a file found on disk differs from the official hash."""
    if digest is not None:
        actual = digest(path)
    else:
        actual = hash_file(path, resolve_hasher(hash_algorithm, file_hash))
    if actual != file_hash:
        warnings.warn(
            f"{path} does not match the official hash {file_hash} (its hash is {actual}). "
            "It is used as placed. If loading fails or the data look wrong, delete it so "
            f"that a fresh copy is downloaded from {origin}.",
            stacklevel=3,
        )


def fetch(
    fname,
    origin,
    dirs,
    file_hash=None,
    hash_algorithm="auto",
    force_download=False,
    aliases=(),
    digest=None,
):
    """Returns the path of `fname`, searching `dirs` in order and downloading if absent.

    Args:
        fname: file name (may contain sub-folders) looked up in each folder.
        origin: URL used when no folder holds the file.
        dirs: ordered folders to search; downloads go to the first writable one.
        file_hash: official sha256/md5 hex digest or None.
        hash_algorithm: 'auto', 'sha256' or 'md5'.
        force_download: download even when a copy exists.
        aliases: other names accepted for an existing copy.
        digest: optional callable `path -> hex digest` replacing the file hash.

    Returns:
        The path of the file.

    Raises:
        DownloadError: absent locally and the download failed (names file, URL, folders).
    """
    names = (fname, *aliases)
    if not force_download:
        for folder in dirs:
            for name in names:
                path = os.path.join(folder, name)
                if os.path.isfile(path):
                    if file_hash is not None:
                        _check_placed_file(path, file_hash, hash_algorithm, origin, digest)
                    return path
    target = os.path.join(writable_dir(dirs), fname)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    try:
        return download(origin, target, file_hash, hash_algorithm, digest)
    except DownloadError as err:
        raise DownloadError(_offline_message(names, origin, dirs, err)) from None


def _member_problem(name, linkname=None, hardlink=False):
    """Describes why an archive member is unsafe, or returns None when it is safe."""
    for path in (name,) if linkname is None else (name, linkname):
        drive = len(path) > 1 and path[1] == ":" and path[0].isalpha()
        if os.path.isabs(path) or path.startswith(("/", "\\")) or drive:
            return f"absolute path {path!r}"
        if ".." in path.replace("\\", "/").split("/"):
            return f"'..' in path {path!r}"
    if linkname is not None and not hardlink and not linkname:
        return "empty link target"
    return None


def _check_tar(archive):
    for member in archive.getmembers():
        if member.issym() or member.islnk():
            problem = _member_problem(member.name, member.linkname, member.islnk())
        elif member.isfile() or member.isdir():
            problem = _member_problem(member.name)
        else:
            problem = "device or fifo member"
        if problem:
            raise ValueError(
                f"Refusing to extract {archive.name}: member {member.name!r} has {problem}, "
                "which could write outside the target folder. Use a trusted archive."
            )


def _check_zip(archive):
    for name in archive.namelist():
        problem = _member_problem(name)
        if problem:
            raise ValueError(
                f"Refusing to extract {archive.filename}: member {name!r} has {problem}, "
                "which could write outside the target folder. Use a trusted archive."
            )


def _extract_into(file_path, kind, path):
    """Checks then extracts one archive of `kind` ('tar'/'zip') into the folder `path`."""
    if kind == "zip":
        with zipfile.ZipFile(file_path) as archive:
            _check_zip(archive)
            archive.extractall(path)
        return
    with tarfile.open(file_path) as archive:
        _check_tar(archive)
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4 / 3.12: defence in depth
            archive.extractall(path, filter="data")
        else:
            archive.extractall(path)


def extract_archive(file_path, path=".", archive_format="auto"):
    """Extracts a tar (.tar, .tar.gz, .tar.bz2, .tar.xz) or zip archive safely.

    A missing target folder is created atomically (extracted next to it, then renamed).

    Args:
        file_path: the archive.
        path: target folder.
        archive_format: 'auto' (= ['tar', 'zip']), 'tar', 'zip', a list of those, or None.

    Returns:
        True when the file matched a format and was extracted, False otherwise.

    Raises:
        ValueError: a member has an absolute path, '..', a link leaving the target or is a
            device; or the archive is truncated/corrupt.
    """
    if archive_format is None:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else archive_format
    formats = [formats] if isinstance(formats, str) else formats
    file_path, path = os.fspath(file_path), os.fspath(path)
    for kind in formats:
        if kind not in ("tar", "zip"):
            raise NotImplementedError(f"archive_format {kind!r}: expected 'tar' or 'zip'")
        matches = tarfile.is_tarfile if kind == "tar" else zipfile.is_zipfile
        try:
            if not matches(file_path):
                continue
        except (EOFError, zlib.error, OSError, tarfile.TarError) as err:
            raise ValueError(
                f"Could not read {file_path} as a {kind} archive: {err}. It looks truncated or "
                "corrupt; delete it so that a fresh copy is downloaded."
            ) from err
        fresh = not os.path.exists(path)
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        work = tempfile.mkdtemp(prefix=".extracting.", dir=parent) if fresh else path
        try:
            _extract_into(file_path, kind, work)
            if fresh:
                os.rename(work, path)
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, OSError) as err:
            raise ValueError(
                f"Could not extract {file_path}: {err}. The archive looks truncated or "
                "corrupt; delete it so that a fresh copy is downloaded."
            ) from err
        finally:
            if fresh and os.path.isdir(work):
                shutil.rmtree(work)
        return True
    return False


def fetch_and_extract(
    archive_name,
    folder_name,
    origin,
    dirs,
    file_hash=None,
    hash_algorithm="auto",
    force_download=False,
    archive_format="auto",
    aliases=(),
):
    """Finds or downloads an archive (see `fetch`) and extracts it beside itself.

    When the archive's folder is read-only, it is extracted into the first writable of
    `dirs` instead.

    Args:
        archive_name, origin, dirs, file_hash, hash_algorithm, force_download, aliases: as
            for `fetch`.
        folder_name: name of the extraction folder.
        archive_format: as for `extract_archive`.

    Returns:
        `(archive path, extraction folder)`; the folder is None when the file is not an
        archive of `archive_format`.
    """
    archive = fetch(archive_name, origin, dirs, file_hash, hash_algorithm, force_download, aliases)
    home = os.path.dirname(archive)
    if not os.access(home, os.W_OK):
        home = writable_dir(dirs)
    target = os.path.join(home, folder_name)
    return archive, (target if extract_archive(archive, target, archive_format) else None)


def _archive_names(fname, provided):
    """Keras 3's names for an extracted download: (archive file name, extraction folder)."""
    if provided and "." in fname:
        return fname, f"{fname[: fname.find('.')]}_extracted"
    return f"{fname}_archive", fname


def data_dirs(cache_dir=None, cache_subdir="datasets"):
    """Lists, in search order, the folders that may hold a data file.

    Order: `cache_dir`, `$LAYERKIT_HOME`, `$KERAS_HOME`, `~/.keras` (each joined with
    `cache_subdir`), known system copies (`SYSTEM_DIRS`), then Keras's fallback
    `<tempdir>/.keras/<cache_subdir>`. This is the single place in layerkit where environment
    variables are read for data location; they are read on every call, so a test or a user
    can change them at run time (`config.py` keeps only numeric/global settings).

    Args:
        cache_dir: optional root searched first (like Keras's `cache_dir`).
        cache_subdir: sub-folder of each root; an absolute folder is used alone.

    Returns:
        A list of absolute folder paths without duplicates.
    """
    cache_subdir = os.fspath(cache_subdir)
    if os.path.isabs(cache_subdir):
        return [cache_subdir]
    roots = [cache_dir, os.environ.get("LAYERKIT_HOME"), os.environ.get("KERAS_HOME"),
             os.path.join("~", ".keras")]
    dirs = []
    for root in roots:
        if root:
            folder = os.path.abspath(
                os.path.join(os.path.expanduser(os.fspath(root)), cache_subdir))
            if folder not in dirs:
                dirs.append(folder)
    normalized = os.path.normpath(cache_subdir)
    dirs += [d for d in SYSTEM_DIRS.get(normalized, ()) if d not in dirs]
    fallback = os.path.join(tempfile.gettempdir(), ".keras", cache_subdir)
    return dirs if fallback in dirs else [*dirs, fallback]


def get_file(
    fname=None,
    origin=None,
    untar=False,
    md5_hash=None,
    file_hash=None,
    cache_subdir="datasets",
    hash_algorithm="auto",
    extract=False,
    archive_format="auto",
    cache_dir=None,
    force_download=False,
):
    """Returns the local path of a file, downloading it from `origin` if no copy exists.

    Copies are looked for, in order, in `cache_dir/cache_subdir`, `$LAYERKIT_HOME/...`,
    `$KERAS_HOME/...`, `~/.keras/...` and `/tmp/.keras/...` (where Keras writes when home
    is read-only); a download goes to the first writable one. A copy whose hash differs
    from `file_hash` is used with a warning, never replaced (unless `force_download`).

    Args:
        fname: local file name; None takes the name from `origin`. An absolute path is used
            as is (tf.keras 2.x behaviour).
        origin: URL of the file (required).
        untar: deprecated; same as `extract=True, archive_format='tar'`.
        md5_hash: deprecated; md5 digest (same as `file_hash` with `hash_algorithm='md5'`).
        file_hash: expected sha256 or md5 hex digest.
        cache_subdir: sub-folder of the cache dir, or an absolute folder.
        hash_algorithm: 'auto' (length of `file_hash` decides), 'sha256' or 'md5'.
        extract: extract the archive; the extraction folder is returned.
        archive_format: 'auto', 'tar', 'zip', a list of those, or None.
        cache_dir: folder searched (and written) first; default `$KERAS_HOME` or `~/.keras`.
        force_download: download even when a copy exists.

    Returns:
        The path of the file, or of the extraction folder when extracting.

    Raises:
        ValueError: no origin, no usable name, a bad download hash or an unsafe archive.
        DownloadError: no local copy and no network (names the file, URL and folders).

    Example:
        >>> path = get_file(  # doctest: +SKIP
        ...     "mnist.npz",
        ...     origin="https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
        ...     file_hash="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
        ... )
    """
    if origin is None:
        raise ValueError('get_file: please specify the "origin" argument (URL of the file).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    provided = bool(fname)
    fname = os.fspath(fname) if fname else os.path.basename(urllib.parse.urlsplit(origin).path)
    if not fname:
        raise ValueError(
            f"get_file: cannot parse a file name from origin={origin!r}; pass `fname`."
        )
    fname = os.path.expanduser(fname)
    if os.path.isabs(fname):
        dirs, fname = [os.path.dirname(fname)], os.path.basename(fname)
    else:
        dirs = data_dirs(cache_dir, cache_subdir)
    if not (extract or untar):
        return fetch(fname, origin, dirs, file_hash, hash_algorithm, force_download)
    archive_name, folder_name = _archive_names(fname, provided)
    if not force_download:
        for folder in dirs:
            candidate = os.path.join(folder, folder_name)
            if os.path.isdir(candidate) and os.listdir(candidate):
                return candidate
    archive, target = fetch_and_extract(
        archive_name,
        folder_name,
        origin,
        dirs,
        file_hash,
        hash_algorithm,
        force_download,
        archive_format="tar" if untar else archive_format,
    )
    if target is None:
        target = os.path.join(os.path.dirname(archive), folder_name)
        warnings.warn(
            f"get_file: could not extract {archive}: not a tar or zip archive.", stacklevel=2
        )
    return target
