"""`get_file`: download into kerax's cache, verify the hash, extract safely.

Downloads go to a temporary file next to the target and are renamed into place only
once complete and verified, so a killed download never leaves a half file under the
final name; a cached file whose hash does not match is deleted and fetched again.
"""

import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile

from kerax.errors import unknown_identifier
from kerax.utils import io_utils
from kerax.utils.progbar import Progbar

_CHUNK = 1 << 16


def kerax_home():
    """kerax's cache root: `$KERAX_HOME`, or `~/.kerax` when unset.

    Example:
    >>> import os
    >>> os.path.basename(kerax_home()) in (".kerax", os.path.basename(
    ...     os.environ.get("KERAX_HOME", "")))
    True
    """
    return os.path.expanduser(os.environ.get("KERAX_HOME") or os.path.join("~", ".kerax"))


def _algorithm(algorithm, file_hash=None):
    """Resolves `"auto"` (64 hex digits: sha256, others: md5) and checks the name."""
    if algorithm == "auto":
        algorithm = "sha256" if file_hash is not None and len(file_hash) == 64 else "md5"
    if algorithm not in ("sha256", "md5"):
        raise unknown_identifier("hash_algorithm", algorithm, ["auto", "sha256", "md5"])
    return algorithm


def _hasher(algorithm, file_hash=None):
    return hashlib.new(_algorithm(algorithm, file_hash))


def hash_file(fpath, algorithm="sha256", chunk_size=_CHUNK):
    """Returns the sha256 (or md5) hex digest of a file.

    Example:
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     hash_file(f.name)
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    """
    hasher = _hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=_CHUNK):
    """Whether the file's sha256 or md5 hash equals `file_hash`.

    `algorithm="auto"` reads a 64-character hash as sha256 and any other as md5.

    Example:
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     validate_file(f.name, "d41d8cd98f00b204e9800998ecf8427e")
    True
    """
    hasher = _hasher(algorithm, file_hash)
    return hash_file(fpath, hasher, chunk_size) == str(file_hash).lower()


def _inside(base, name):
    """The resolved path of `name` under `base`, or None if it escapes `base`."""
    path = os.path.realpath(os.path.join(base, name))
    return path if os.path.commonpath([path, base]) == base else None


def _safe_members(archive, base):
    """Yields the archive members that stay inside `base`; warns about the others."""
    base = os.path.realpath(base)
    if isinstance(archive, zipfile.ZipFile):
        members = [(m, m.filename, None) for m in archive.infolist()]
    else:
        members = []
        for m in archive.getmembers():
            link = None
            if m.issym():
                link = os.path.join(os.path.dirname(m.name), m.linkname)
            elif m.islnk():
                link = m.linkname
            members.append((m, m.name, link))
    for member, name, link in members:
        if _inside(base, name) is None or (link is not None and _inside(base, link) is None):
            warnings.warn(
                f"Skipping archive member {name!r}: it would be written outside the "
                f"extraction directory {base!r} (path traversal).",
                stacklevel=3,
            )
            continue
        yield member


def extract_archive(file_path, path=".", archive_format="auto"):
    """Extracts a tar (`.tar`, `.tar.gz`, `.tar.bz2`) or zip archive into `path`.

    Members that would land outside `path` (`../x`, absolute paths, links pointing
    out) are skipped with a warning.

    Args:
        file_path: the archive.
        path: the directory to extract into.
        archive_format: `"auto"` (tar, then zip), `"tar"`, `"zip"`, a list of these,
            or `None` (extract nothing).

    Returns:
        `True` if the file was an archive of an allowed format and was extracted.

    Example:
    >>> import io, os, tarfile, tempfile
    >>> d = tempfile.mkdtemp()
    >>> with tarfile.open(os.path.join(d, "a.tar"), "w") as t:
    ...     info = tarfile.TarInfo("hello.txt"); info.size = 2
    ...     t.addfile(info, io.BytesIO(b"hi"))
    >>> extract_archive(os.path.join(d, "a.tar"), os.path.join(d, "out"))
    True
    >>> open(os.path.join(d, "out", "hello.txt")).read()
    'hi'
    """
    if not archive_format:
        return False
    if archive_format == "auto":
        archive_format = ["tar", "zip"]
    if isinstance(archive_format, str):
        archive_format = [archive_format]
    file_path, path = os.fspath(file_path), os.fspath(path)
    for kind in archive_format:
        if kind == "tar":
            is_kind, opener = tarfile.is_tarfile, tarfile.open
        elif kind == "zip":
            is_kind, opener = zipfile.is_zipfile, zipfile.ZipFile
        else:
            raise unknown_identifier("archive_format", kind, ["auto", "tar", "zip"])
        if not is_kind(file_path):
            continue
        os.makedirs(path, exist_ok=True)
        with opener(file_path) as archive:
            members = list(_safe_members(archive, path))
            if kind == "tar":
                archive.extractall(path, members=members, filter="data")
            else:
                archive.extractall(path, members=members)
        return True
    return False


def _download(origin, target):
    """Streams `origin` into a temporary file next to `target`; returns its path."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=os.path.basename(target) + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(origin, timeout=60) as response:
            total = response.headers.get("Content-Length") if hasattr(response, "headers") else None
            bar = _progbar(int(total) if total else None)
            done = 0
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
                done += len(chunk)
                if bar is not None:
                    bar.update(done)
            out.flush()
            os.fsync(out.fileno())
        if total and done != int(total):
            raise OSError(f"received {done} of {total} bytes")
    except BaseException:
        os.remove(tmp)
        raise
    return tmp


def _progbar(total):
    if not io_utils.is_interactive_logging_enabled():
        return None
    return Progbar(total)


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
    """Downloads a file from a URL unless it is already in the cache.

    The file at `origin` (`http://`, `https://` or `file://`) is stored as
    `cache_dir/cache_subdir/fname`; `cache_dir` defaults to `$KERAX_HOME`, or
    `~/.kerax` (or `/tmp/.kerax` when that is not writable). With `file_hash`, the
    download is verified, and a cached file whose hash does not match (a truncated or
    outdated copy) is deleted and downloaded again. Downloads are written to a
    temporary file and renamed into place only when complete and verified.

    Args:
        fname: local file name; defaults to the last part of `origin`'s path. With
            `extract=True`, a name without an extension names the extraction
            directory.
        origin: the URL of the file.
        untar: deprecated; same as `extract=True, archive_format="tar"`.
        md5_hash: deprecated; same as `file_hash=md5_hash, hash_algorithm="md5"`.
        file_hash: the expected sha256 or md5 hex digest of the file.
        cache_subdir: subdirectory of `cache_dir` (an absolute path is used as is).
        hash_algorithm: `"auto"` (64 hex digits are sha256, others md5), `"sha256"`
            or `"md5"`.
        extract: whether to extract the downloaded tar or zip archive.
        archive_format: `"auto"`, `"tar"`, `"zip"`, or `None`.
        cache_dir: the cache root.
        force_download: download again even when the file is cached.

    Returns:
        The path of the downloaded file, or of the extraction directory when
        `extract=True`.

    Raises:
        ValueError: `origin` is missing, `fname` is a path, or the downloaded file
            does not match `file_hash`.
        OSError: the download failed (for instance offline); the message says which
            URL failed and where to put the file by hand.

    Example:
    >>> import os, pathlib, tempfile
    >>> d = tempfile.mkdtemp()
    >>> src = pathlib.Path(d, "data.txt"); _ = src.write_text("hello")
    >>> path = get_file(origin=src.as_uri(), cache_dir=os.path.join(d, "cache"))  # doctest: +ELLIPSIS
    Downloading data from file://...
    >>> open(path).read()
    'hello'
    """
    if origin is None:
        raise ValueError(
            "get_file() needs the `origin` argument: the URL of the file to download. "
            "Received: origin=None."
        )
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    if file_hash is not None:
        hash_algorithm = _algorithm(hash_algorithm, file_hash)  # Fails early if unknown.

    base = os.path.expanduser(cache_dir) if cache_dir is not None else kerax_home()
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:
        pass
    if not os.access(base, os.W_OK):
        base = os.path.join(tempfile.gettempdir(), ".kerax")
    datadir = os.path.join(base, cache_subdir)
    os.makedirs(datadir, exist_ok=True)

    given_fname = fname is not None and os.fspath(fname) != ""
    fname = os.fspath(fname) if given_fname else os.path.basename(urllib.parse.urlsplit(origin).path)
    if not fname:
        raise ValueError(
            f"Can't find a file name in origin={origin!r}. Pass `fname`, the name to "
            "store the file under."
        )
    if os.sep in fname:
        raise ValueError(
            f"`fname` must be a file name, not a path. Received: fname={fname!r}. To "
            "choose the directory, pass `cache_dir` (and `cache_subdir`)."
        )

    extract = extract or untar
    if untar:
        archive_format = "tar"
    if extract:
        if given_fname and "." in fname:
            target = os.path.join(datadir, fname)
            extraction_dir = os.path.join(datadir, fname[: fname.find(".")] + "_extracted")
        else:
            target = os.path.join(datadir, fname + "_archive")
            extraction_dir = os.path.join(datadir, fname)
    else:
        target = os.path.join(datadir, fname)

    download = force_download or not os.path.exists(target)
    if not download and file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
        io_utils.print_msg(
            f"A local file was found at {target}, but its hash does not match the "
            f"expected value {file_hash} (it is incomplete or outdated), so it will be "
            "downloaded again."
        )
        os.remove(target)
        download = True

    if download:
        io_utils.print_msg(f"Downloading data from {origin}")
        try:
            tmp = _download(origin, target)
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
            reason = getattr(e, "reason", None) or e
            if isinstance(e, urllib.error.HTTPError):
                reason = f"HTTP {e.code} {e.msg}"
            hint = f" with {hash_algorithm} hash {file_hash}" if file_hash else ""
            raise OSError(
                f"Could not download {origin}: {reason}. If this machine is offline or "
                f"cannot reach that URL, download the file elsewhere and copy it to "
                f"{target}{hint}; get_file() will then use it without downloading."
            ) from e
        if file_hash is not None and not validate_file(tmp, file_hash, hash_algorithm):
            actual = hash_file(tmp, _hasher(hash_algorithm, file_hash))
            os.remove(tmp)
            raise ValueError(
                f"The file downloaded from {origin} is incomplete or corrupted: its "
                f"{hash_algorithm} hash is {actual}, expected {file_hash}. It was not "
                "kept; try again, and check `file_hash` if this persists."
            )
        os.replace(tmp, target)

    if not extract:
        return target
    if download or not os.path.isdir(extraction_dir):
        staging = tempfile.mkdtemp(dir=datadir, prefix=os.path.basename(extraction_dir) + ".")
        try:
            if not extract_archive(target, staging, archive_format):
                warnings.warn(
                    f"Could not extract {target}: it is not a {archive_format} archive.",
                    stacklevel=2,
                )
            if os.path.isdir(extraction_dir):
                shutil.rmtree(extraction_dir)
            os.replace(staging, extraction_dir)
        finally:
            if os.path.isdir(staging):
                shutil.rmtree(staging)
    return extraction_dir
