"""The full MNIST data set: download once, verify, cache, and parse the IDX files.

MNIST is the handwritten-digit set of LeCun, Bottou, Bengio & Haffner (1998), *Gradient-based
learning applied to document recognition*, Proc. IEEE 86(11):2278-2324: 60,000 training and
10,000 test images of 28×28 grey pixels (0 = background, 255 = ink) with labels 0-9. By Y. LeCun
and C. Cortes, licensed CC BY-SA 3.0. The four files are gzipped *IDX* files: a big-endian header
``0x00 0x00 <dtype code> <number of dimensions>``, one uint32 per dimension, then the data in C
order (dtype code 0x08 = unsigned byte).

`fetch` downloads each file into a temporary ``.part`` file next to its final place, checks its
size and SHA-256 and only then renames it into the cache (`os.replace` is atomic), so a partial or
corrupt download never stays under a final name. Each file has an overall deadline (a mirror that
drips bytes cannot stall it) and a size cap (the known size: an endless response is cut off at
once); ``.part`` files older than the deadline (left by a killed process) are removed.
No network? `load_mnist(source="embedded")`, the default, needs none.

(The standard library suffices: pooch would add requests and still need a custom downloader for
the deadline and the size cap.)
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import os
import struct
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import torch

__all__ = [
    "DEFAULT_BASE_URL",
    "MNIST_FILES",
    "SHA256",
    "SIZES",
    "cache_dir",
    "fetch",
    "load_full",
    "read_idx",
    "write_idx",
]

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
# SHA-256 of the canonical .gz files (the same in tensorflow-datasets' url_checksums/mnist.txt).
SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
# Their sizes in bytes: the download of a file stops as soon as more arrive.
SIZES = {
    "train-images-idx3-ubyte.gz": 9912422,
    "train-labels-idx1-ubyte.gz": 28881,
    "t10k-images-idx3-ubyte.gz": 1648877,
    "t10k-labels-idx1-ubyte.gz": 4542,
}
DEFAULT_BASE_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"  # the mirror torchvision uses

_GZIP_MAGIC = b"\x1f\x8b"
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def cache_dir(root=None) -> Path:
    """Where the files live: ``root`` if given, else ``$VAETUT_DATA_DIR``, else the user cache directory."""
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get("VAETUT_DATA_DIR"):
        return Path(os.environ["VAETUT_DATA_DIR"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("vaetut")) / "mnist"


def read_idx(path_or_bytes) -> np.ndarray:
    """Parse an IDX file (gzipped or raw; given as a path or as bytes) into a numpy array."""
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        name, data = "<bytes>", bytes(path_or_bytes)
    else:
        name, data = str(path_or_bytes), Path(path_or_bytes).read_bytes()
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as exc:
            raise ValueError(f"{name}: truncated or corrupt gzip stream ({exc})") from exc
    if len(data) < 4:
        raise ValueError(f"{name}: truncated: {len(data)} bytes, too short for an IDX header")
    zero, code, ndim = data[:2], data[2], data[3]
    if zero != b"\x00\x00":
        raise ValueError(f"{name}: bad magic number 0x{data[:4].hex()}; an IDX file starts with two zero bytes")
    if code not in _IDX_DTYPES:
        raise ValueError(f"{name}: unknown IDX dtype code 0x{code:02x}")
    if ndim == 0:
        raise ValueError(f"{name}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{name}: truncated: header needs {header} bytes, file has {len(data)}")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    if found < expected:
        raise ValueError(f"{name}: truncated: header {shape} promises {expected} data bytes, found {found}")
    if found > expected:
        raise ValueError(f"{name}: corrupt: {found - expected} unexpected bytes after the {shape} data")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable copy in native byte order


def write_idx(path, array) -> Path:
    """Write a uint8 array as a gzipped IDX file (reproducible bytes: the gzip time stamp is 0)."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise TypeError(f"write_idx writes uint8 arrays, got {array.dtype}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"an IDX file holds 1 to 255 dimensions, got {array.ndim}")
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path = Path(path)
    path.write_bytes(gzip.compress(header + np.ascontiguousarray(array).tobytes(), mtime=0))
    return path


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _offline_message(url: str, reason, directory: Path, names, bad: str | None = None) -> str:
    by_hand = (
        f"{bad}; delete it or replace it with the right file"
        if bad
        else f"download these files by hand ({', '.join(names)}) into {directory}"
    )
    return (
        f"could not download {url}: {reason}.\n"
        f"Check your internet connection; or {by_hand}; or set VAETUT_DATA_DIR to a directory that holds them "
        '(VAETUT_MNIST_URL chooses another mirror); or use load_mnist(source="embedded"), the default, '
        "which ships with vaetut and needs no network."
    )


def _download(url: str, target: Path, expected: str, size: int | None, timeout: float, deadline: float) -> None:
    """Download ``url`` to ``target`` via a ``.part`` file in the same directory; verify before renaming.

    Raises ConnectionError (its message is the reason only) or ValueError (wrong size or SHA-256).
    """
    stop = time.monotonic() + deadline
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        digest, received = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=min(timeout, deadline)) as response:
                    announced = response.headers.get("Content-Length")
                    if size is not None and announced is not None and int(announced) > size:
                        raise ValueError(f"{url} announces {announced} bytes, more than the {size} of {target.name}")
                    while chunk := response.read1(1 << 16):
                        received += len(chunk)
                        if size is not None and received > size:
                            raise ValueError(f"{url} sent more than the {size} bytes of {target.name}; nothing saved")
                        if time.monotonic() > stop:
                            raise TimeoutError(f"the download did not finish within {deadline:g} s ({received} bytes)")
                        digest.update(chunk)
                        out.write(chunk)
                    if announced is not None and received != int(announced):
                        raise ConnectionError(f"the connection closed after {received} of {announced} bytes")
            except urllib.error.HTTPError as exc:
                raise ConnectionError(f"HTTP {exc.code} {exc.reason}") from exc
            except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as exc:
                raise ConnectionError(str(getattr(exc, "reason", None) or exc or type(exc).__name__)) from exc
        actual = digest.hexdigest()
        if actual != expected:
            raise ValueError(
                f"checksum mismatch for {target.name} downloaded from {url}: "
                f"expected SHA-256 {expected}, got {actual}; nothing was saved"
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _remove_stale_parts(directory: Path, names, age: float) -> None:
    """Remove ``.part`` files of these names older than ``age`` seconds (left by a killed download)."""
    now = time.time()
    for name in names:
        for part in directory.glob(f".{name}.*.part"):
            with contextlib.suppress(OSError):
                if now - part.stat().st_mtime > age:
                    part.unlink()


def _writable_cache(directory: Path) -> None:
    """Create the cache directory; a one-line error if it is a file or cannot be written."""
    hint = "set VAETUT_DATA_DIR (or root=) to a writable directory"
    if directory.exists() and not directory.is_dir():
        raise NotADirectoryError(f"the MNIST cache {directory} is not a directory; {hint}")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PermissionError(f"cannot create the MNIST cache {directory}: {exc.strerror or exc}; {hint}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(f"the MNIST cache {directory} is read-only; {hint}")


def fetch(
    root=None, base_url=None, *, files=None, sha256=None, sizes=None, timeout: float = 30.0, deadline: float = 600.0
) -> Path:
    """Make sure every file is in the cache directory with the right SHA-256; return that directory.

    ``files`` defaults to all four MNIST files, ``sha256`` to `SHA256` and ``sizes`` (the cap in bytes,
    per file; a file not in it has none) to `SIZES`; ``base_url`` defaults to ``$VAETUT_MNIST_URL``,
    else `DEFAULT_BASE_URL`. ``timeout`` (s) bounds each wait for the server, ``deadline`` (s) each
    whole file. A cached file with a wrong hash is downloaded again.
    """
    for name, value in (("timeout", timeout), ("deadline", deadline)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
            raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
    directory = cache_dir(root)
    base_url = base_url or os.environ.get("VAETUT_MNIST_URL") or DEFAULT_BASE_URL
    base_url = base_url if base_url.endswith("/") else base_url + "/"
    names = list(files) if files is not None else [name for pair in MNIST_FILES.values() for name in pair]
    hashes = SHA256 if sha256 is None else sha256
    sizes = SIZES if sizes is None else sizes
    missing = [name for name in names if name not in hashes]
    if missing:
        raise ValueError(f"no SHA-256 known for {missing}; pass them in sha256=")
    todo = {}  # name -> why the file there is wrong (None: absent)
    for name in names:
        target, expected = directory / name, hashes[name].lower()
        if target.is_file():
            actual = _sha256_of(target)
            if actual == expected:
                continue  # cached and verified
            todo[name] = f"the file at {target} has the wrong SHA-256 ({actual}, expected {expected})"
        else:
            todo[name] = None
    if not todo:
        return directory
    _writable_cache(directory)
    _remove_stale_parts(directory, todo, deadline)
    for name, bad in todo.items():
        url = base_url + name
        try:
            _download(url, directory / name, hashes[name].lower(), sizes.get(name), timeout, deadline)
        except ConnectionError as exc:
            raise ConnectionError(_offline_message(url, exc, directory, list(todo), bad)) from exc
    return directory


def load_full(split: str = "train", root=None, base_url=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The full MNIST ``split`` ("train": 60,000, "test": 10,000), downloaded and cached on first use.

    Returns ``images``, float32 ``[N, 784]`` in [0, 1], and ``labels``, int64 ``[N]``.
    """
    if split not in MNIST_FILES:
        raise ValueError(f"unknown split {split!r}; valid splits are {', '.join(map(repr, MNIST_FILES))}")
    image_file, label_file = MNIST_FILES[split]
    directory = fetch(root, base_url, files=(image_file, label_file))
    images, labels = read_idx(directory / image_file), read_idx(directory / label_file)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"{image_file}: expected uint8 images of 28×28, got {images.dtype} {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(f"{label_file}: expected a 1-d uint8 label array, got {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"{image_file} holds {len(images)} images but {label_file} holds {len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{label_file}: labels must be digits 0-9, found {labels.max()}")
    x = torch.from_numpy(images.reshape(len(images), 28 * 28)).to(torch.float32).div_(255.0)
    return x, torch.from_numpy(labels.astype(np.int64))
