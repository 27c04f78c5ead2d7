"""Saving and loading a model: its weights and everything needed to rebuild it, and no code.

A file written by `save` is a `torch.save` archive of two things: a JSON header (the
format, the vaetut version that wrote it, the model's class and its constructor's
arguments: sizes, output, cost, dtype; and a SHA-256 of the weights) and the state dict,
plain tensors. `load` reads it with ``torch.load(weights_only=True)``, which refuses to
unpickle anything but tensors and plain containers: a file cannot run code on loading.
It rebuilds the model from the header (only the classes in `CLASSES`) and checks the
weights against their checksum, so a file changed after saving, or written by a newer
vaetut, is refused with a clear error. Writing is atomic: a temporary file in the same
directory, renamed over the target, so a crash never leaves half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
import zipfile
from pathlib import Path

import torch

from .conv import ConvVAE
from .models import VAE, Autoencoder

__all__ = ["save", "load", "CLASSES", "FORMAT"]

FORMAT = 1  # the layout of the file; a reader refuses a larger one
CLASSES = {"Autoencoder": Autoencoder, "VAE": VAE, "ConvVAE": ConvVAE}
DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64}


def _version() -> str:
    from . import __version__

    return __version__


def _version_tuple(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in version.split("."))
    except (AttributeError, ValueError):
        raise ValueError(f"the file's vaetut version {version!r} is not a version number: not a vaetut file") from None


def _digest(state: dict[str, torch.Tensor]) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes, in name order."""
    sha = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        sha.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        sha.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return sha.hexdigest()


def _path(path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    return Path(path)


def save(model: torch.nn.Module, path) -> Path:
    """Write ``model`` (an `Autoencoder`, `VAE` or `ConvVAE`) to ``path``, atomically; return the path.

    The weights are saved from the CPU; `load` rebuilds the model on the CPU.
    """
    name = type(model).__name__
    if CLASSES.get(name) is not type(model):
        raise TypeError(f"model must be one of {', '.join(CLASSES)}, got {name}; save your own model's state_dict")
    path = _path(path)
    state = {key: value.detach().cpu().clone() for key, value in model.state_dict().items()}
    header = {"format": FORMAT, "vaetut": _version(), "class": name, "config": model.config(), "sha256": _digest(state)}
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            torch.save({"header": json.dumps(header), "state_dict": state}, file)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _read(path: Path) -> tuple[dict, dict]:
    """The header and the state dict of a file, or ValueError saying why it is not a vaetut model file."""
    if path.is_file() and not zipfile.is_zipfile(path):  # torch.save writes a zip archive; never unpickle a bare pickle
        raise ValueError(f"{path} is not a vaetut model file (not a torch archive)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"{path} holds more than weights, which loading refuses to run ({first})") from None
    except (RuntimeError, EOFError, OSError) as error:
        if isinstance(error, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise ValueError(f"{path} is not a vaetut model file (or it is damaged): {error}") from None
    if not isinstance(payload, dict) or set(payload) != {"header", "state_dict"}:
        raise ValueError(f"{path} is not a vaetut model file: no header and state_dict")
    header, state = payload["header"], payload["state_dict"]
    try:
        header = json.loads(header)
    except (TypeError, ValueError):
        raise ValueError(f"{path} is not a vaetut model file: its header is not JSON") from None
    if not isinstance(header, dict) or not isinstance(state, dict):
        raise ValueError(f"{path} is not a vaetut model file: malformed header or weights")
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise ValueError(f"{path} is not a vaetut model file: its weights are not named tensors")
    return header, state


def load(path) -> torch.nn.Module:
    """The model saved at ``path`` by `save`, rebuilt and with its weights, on the CPU, in training mode.

    Raises ValueError for a file from a newer vaetut, a file changed after saving, or a
    file that is not a vaetut model; nothing in the file is ever executed. The caller's
    global RNG is left alone (building a model draws initial weights, then overwritten).
    """
    path = _path(path)
    header, state = _read(path)
    if not isinstance(header.get("format"), int) or header["format"] < 1:
        raise ValueError(f"{path} is not a vaetut model file: no format number in its header")
    written_by = header.get("vaetut")
    if header["format"] > FORMAT or _version_tuple(written_by) > _version_tuple(_version()):
        raise ValueError(
            f"{path} was saved by vaetut {written_by} (file format {header['format']}), newer than this "
            f"vaetut {_version()} (format {FORMAT}): upgrade vaetut to load it"
        )
    cls, config = CLASSES.get(header.get("class")), header.get("config")
    if cls is None or not isinstance(config, dict):
        raise ValueError(f"{path}: unknown model class {header.get('class')!r}; this vaetut loads {', '.join(CLASSES)}")
    if header.get("sha256") != _digest(state):
        raise ValueError(
            f"{path}: the weights do not match the checksum in the header: the file was changed after saving"
        )
    config = dict(config)
    if config.get("dtype") not in DTYPES:
        raise ValueError(f"{path}: unknown dtype {config.get('dtype')!r} in the header")
    config["dtype"] = DTYPES[config["dtype"]]
    try:
        with torch.random.fork_rng(devices=[]):
            model = cls(**config)
        model.load_state_dict(state, strict=True)
    except (TypeError, ValueError, RuntimeError) as error:
        first = str(error).strip().splitlines()[0]
        raise ValueError(f"{path}: the header and the weights do not make a {cls.__name__} ({first})") from None
    return model
