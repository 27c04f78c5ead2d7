"""Tests for vaetut.download against a local HTTP server serving small fake IDX files (no real network)."""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import http.server
import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from vaetut import download
from vaetut.download import MNIST_FILES, SHA256, cache_dir, fetch, load_full, read_idx, write_idx

N_TRAIN, N_TEST = 12, 5


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


class Server:
    """A ThreadingHTTPServer on 127.0.0.1 serving ``directory``; ``requests`` lists the paths asked for."""

    def __init__(self, directory: Path):
        self.directory, self.requests = directory, []
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=directory))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture(autouse=True)
def no_env(monkeypatch):
    monkeypatch.delenv("VAETUT_DATA_DIR", raising=False)
    monkeypatch.delenv("VAETUT_MNIST_URL", raising=False)


@pytest.fixture
def served(tmp_path, monkeypatch):
    """Fake MNIST files for both splits on a local server; the module's SHA256 is patched to match them."""
    rng = np.random.default_rng(0)
    directory = tmp_path / "server"
    directory.mkdir()
    arrays = {}
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        images_name, labels_name = MNIST_FILES[split]
        arrays[images_name] = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        arrays[labels_name] = rng.integers(0, 10, size=n, dtype=np.uint8)
    hashes = {name: sha256(write_idx(directory / name, array)) for name, array in arrays.items()}
    monkeypatch.setattr(download, "SHA256", hashes)
    server = Server(directory)
    server.arrays, server.hashes = arrays, hashes
    yield server
    server.close()


def test_idx_round_trip(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / "a.gz", array)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(path), array)
    raw = gzip.decompress(path.read_bytes())
    assert raw[:4] == b"\x00\x00\x08\x03"
    np.testing.assert_array_equal(read_idx(raw), array)  # raw bytes, not gzipped
    assert sha256(write_idx(tmp_path / "b.gz", array)) == sha256(path)  # reproducible bytes


def test_read_idx_rejects_bad_files(tmp_path):
    good = gzip.decompress(write_idx(tmp_path / "a.gz", np.zeros((4, 5), np.uint8)).read_bytes())
    with pytest.raises(ValueError, match="magic"):
        read_idx(b"\x12\x34" + good[2:])
    with pytest.raises(ValueError, match="dtype code"):
        read_idx(good[:2] + b"\x07" + good[3:])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(good[:-1])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(good[:6])  # inside the dimension sizes
    with pytest.raises(ValueError, match="unexpected bytes"):
        read_idx(good + b"\x00")
    (tmp_path / "cut.gz").write_bytes(gzip.compress(good)[:-10])
    with pytest.raises(ValueError, match=r"cut\.gz: truncated or corrupt gzip"):
        read_idx(tmp_path / "cut.gz")
    with pytest.raises(TypeError):
        write_idx(tmp_path / "f.gz", np.zeros(3, np.float32))


def test_cache_dir_precedence(tmp_path, monkeypatch):
    assert cache_dir().name == "mnist"
    monkeypatch.setenv("VAETUT_DATA_DIR", str(tmp_path / "env"))
    assert cache_dir() == tmp_path / "env"
    assert cache_dir(tmp_path / "root") == tmp_path / "root"


def test_known_hashes_cover_the_four_files():
    names = [name for pair in MNIST_FILES.values() for name in pair]
    assert sorted(SHA256) == sorted(names)
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in SHA256.values())


def test_download_and_parse(served, tmp_path):
    cache = tmp_path / "cache"
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        images, labels = load_full(split, root=cache, base_url=served.url)
        images_name, labels_name = MNIST_FILES[split]
        assert images.dtype == torch.float32 and images.shape == (n, 784)
        assert labels.dtype == torch.int64 and labels.shape == (n,)
        expected = served.arrays[images_name].reshape(n, 784).astype(np.float32) / 255
        np.testing.assert_allclose(images.numpy(), expected, rtol=0, atol=1e-7)
        np.testing.assert_array_equal(labels.numpy(), served.arrays[labels_name])
    assert sorted(served.requests) == sorted("/" + name for name in served.hashes)
    assert leftovers(cache) == sorted(served.hashes)  # no temporary files


def test_second_call_uses_cache(served, tmp_path):
    load_full("train", root=tmp_path / "cache", base_url=served.url)
    assert len(served.requests) == 2
    images, _ = load_full("train", root=tmp_path / "cache", base_url=served.url)
    assert len(served.requests) == 2 and images.shape == (N_TRAIN, 784)


def test_env_vars_choose_cache_and_mirror(served, tmp_path, monkeypatch):
    monkeypatch.setenv("VAETUT_DATA_DIR", str(tmp_path / "env-cache"))
    monkeypatch.setenv("VAETUT_MNIST_URL", served.url.rstrip("/"))
    images, _ = load_full("test")
    assert images.shape == (N_TEST, 784)
    assert leftovers(tmp_path / "env-cache") == sorted(MNIST_FILES["test"])


def test_corrupt_file_on_server(served, tmp_path):
    name = MNIST_FILES["train"][0]
    write_idx(served.directory / name, np.zeros((N_TRAIN, 28, 28), np.uint8))  # hash no longer matches
    actual = sha256(served.directory / name)
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="checksum mismatch") as info:
        fetch(cache, served.url, files=[name], sha256=served.hashes)
    assert name in str(info.value) and served.hashes[name] in str(info.value) and actual in str(info.value)
    assert leftovers(cache) == []


def test_truncated_file_with_matching_hash(served, tmp_path):
    name = MNIST_FILES["test"][0]
    raw = gzip.decompress((served.directory / name).read_bytes())
    (served.directory / name).write_bytes(gzip.compress(raw[:-100]))
    hashes = {**served.hashes, name: sha256(served.directory / name)}
    directory = fetch(tmp_path / "cache", served.url, files=[name], sha256=hashes)
    with pytest.raises(ValueError, match=f"{name}: truncated"):
        read_idx(directory / name)


def test_tampered_cache_is_replaced(served, tmp_path):
    cache = tmp_path / "cache"
    name = MNIST_FILES["train"][1]
    fetch(cache, served.url, files=[name], sha256=served.hashes)
    (cache / name).write_bytes(b"not the file you are looking for")
    fetch(cache, served.url, files=[name], sha256=served.hashes)
    assert served.requests == ["/" + name] * 2
    assert sha256(cache / name) == served.hashes[name]
    assert leftovers(cache) == [name]


def test_count_mismatch(served, tmp_path, monkeypatch):
    name = MNIST_FILES["train"][1]
    write_idx(served.directory / name, np.zeros(N_TRAIN - 1, np.uint8))
    monkeypatch.setitem(download.SHA256, name, sha256(served.directory / name))
    with pytest.raises(ValueError, match=f"{N_TRAIN} images but .* {N_TRAIN - 1} labels"):
        load_full("train", root=tmp_path / "cache", base_url=served.url)


def test_unknown_split(tmp_path):
    with pytest.raises(ValueError, match="'train', 'test'"):
        load_full("validation", root=tmp_path)


def test_no_network(tmp_path):
    with socket.socket() as s:  # find a port, then close it: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cache = tmp_path / "cache"
    with pytest.raises(ConnectionError) as info:
        load_full("train", root=cache, base_url=f"http://127.0.0.1:{port}/")
    message = str(info.value)
    assert "embedded" in message and "VAETUT_DATA_DIR" in message and str(cache) in message
    assert leftovers(cache) == []


def test_missing_on_server(served, tmp_path):
    with pytest.raises(ConnectionError, match="HTTP 404"):
        fetch(tmp_path / "cache", served.url, files=["nope.gz"], sha256={"nope.gz": "0" * 64})
    assert leftovers(tmp_path / "cache") == []


def test_connection_dropped_mid_file(tmp_path):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # announce 1000 bytes, send 100, hang up
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x" * 100)
            self.close_connection = True

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        with pytest.raises(ConnectionError, match="closed after 100 of 1000 bytes"):
            fetch(tmp_path, f"http://127.0.0.1:{httpd.server_address[1]}/", files=["a.gz"], sha256={"a.gz": "0" * 64})
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert leftovers(tmp_path) == []


class RawServer:
    """127.0.0.1 only: ``body(handler)`` writes the whole response for every GET."""

    def __init__(self, body):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with contextlib.suppress(OSError):  # the client hangs up: fine
                    body(self)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def drip(handler):
    handler.send_response(200)
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    for _ in range(1000):  # one byte per 0.2 s: every read succeeds, the file never ends in time
        handler.wfile.write(b"x")
        handler.wfile.flush()
        time.sleep(0.2)


def endless(handler):
    handler.send_response(200)  # no Content-Length: the body ends when the server hangs up, which it never does
    handler.end_headers()
    for _ in range(100_000):
        handler.wfile.write(b"\0" * 65536)


def test_drip_feed_hits_the_deadline(tmp_path):
    with RawServer(drip) as server:
        start = time.monotonic()
        with pytest.raises(ConnectionError, match="did not finish within 1 s") as info:
            fetch(tmp_path, server.url, files=["a.gz"], sha256={"a.gz": "0" * 64}, timeout=5, deadline=1)
        assert time.monotonic() - start < 5  # the per-read timeout never fires: the deadline does
    assert "embedded" in str(info.value)
    assert leftovers(tmp_path) == []


def test_endless_body_is_cut_at_the_known_size(tmp_path):
    with RawServer(endless) as server:
        with pytest.raises(ValueError, match="more than the 100000 bytes of a.gz"):
            fetch(tmp_path, server.url, files=["a.gz"], sha256={"a.gz": "0" * 64}, sizes={"a.gz": 100_000})
    assert leftovers(tmp_path) == []


def test_known_sizes_cover_the_four_files():
    assert sorted(download.SIZES) == sorted(SHA256) and all(size > 0 for size in download.SIZES.values())


def test_stale_part_files_are_removed_fresh_ones_kept(served, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    name = MNIST_FILES["test"][1]
    stale, fresh = cache / f".{name}.abc123.part", cache / f".{name}.def456.part"
    stale.write_bytes(b"left by a killed download")
    fresh.write_bytes(b"another process is downloading this right now")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    fetch(cache, served.url, files=[name], sha256=served.hashes, deadline=600)
    assert leftovers(cache) == sorted([name, fresh.name])


def test_hand_placed_file_with_wrong_hash_is_named(tmp_path):
    with socket.socket() as s:  # nothing listens there: offline
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    name = MNIST_FILES["test"][1]
    (tmp_path / name).write_bytes(b"not MNIST")
    with pytest.raises(ConnectionError) as info:
        fetch(tmp_path, f"http://127.0.0.1:{port}/", files=[name])
    message = str(info.value)
    assert f"the file at {tmp_path / name} has the wrong SHA-256" in message
    assert hashlib.sha256(b"not MNIST").hexdigest() in message and SHA256[name] in message
    assert "by hand" not in message
    assert (tmp_path / name).read_bytes() == b"not MNIST"  # nothing of theirs is touched


def test_cache_path_that_is_a_file(tmp_path):
    (tmp_path / "cache").write_text("a file")
    with pytest.raises(NotADirectoryError, match="is not a directory; set VAETUT_DATA_DIR"):
        fetch(tmp_path / "cache", "http://127.0.0.1:9/", files=["a.gz"], sha256={"a.gz": "0" * 64})
    assert (tmp_path / "cache").read_text() == "a file"


def test_read_only_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o555)
    if os.geteuid() == 0:  # root writes anywhere: make the permission check see what a user sees
        monkeypatch.setattr(download.os, "access", lambda path, mode: False)
    with pytest.raises(PermissionError, match="is read-only; set VAETUT_DATA_DIR"):
        fetch(cache, "http://127.0.0.1:9/", files=["a.gz"], sha256={"a.gz": "0" * 64})
    assert leftovers(cache) == []


@pytest.mark.parametrize("bad", [{"timeout": 0}, {"deadline": -1}, {"deadline": float("inf")}, {"timeout": "5"}])
def test_bad_timeouts_are_named(tmp_path, bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        fetch(tmp_path, "http://127.0.0.1:9/", files=["a.gz"], sha256={"a.gz": "0" * 64}, **bad)
