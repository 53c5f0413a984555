"""File checksums remembered per process: read once while a file stays the same, read again when it changes."""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from observatoire.core import checksums


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    checksums.forget()
    yield
    checksums.forget()


def _flip_keeping_size_and_mtime(path):
    stat = path.stat()
    data = bytearray(path.read_bytes())
    data[3] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)


def test_a_file_is_read_once_while_it_stays_the_same(tmp_path, monkeypatch):
    monkeypatch.setattr(checksums, "SETTLE_SECONDS", 0.0)
    path = tmp_path / "a.bin"
    path.write_bytes(b"0123456789" * 1000)
    assert checksums.sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    assert checksums.sha256_file(path) == hashlib.sha256(b"0123456789" * 1000).hexdigest()
    assert checksums.sha256_file(str(path)) == checksums.sha256_file(path)
    assert opened == []  # remembered


def test_a_byte_flipped_with_its_modification_time_restored_is_read_again(tmp_path, monkeypatch):
    monkeypatch.setattr(checksums, "SETTLE_SECONDS", 0.0)
    path = tmp_path / "a.bin"
    path.write_bytes(b"0123456789" * 1000)
    before = checksums.sha256_file(path)
    time.sleep(0.05)  # past the file system's clock tick: the change time moves
    _flip_keeping_size_and_mtime(path)
    after = checksums.sha256_file(path)
    assert after != before and after == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_file_changed_moments_ago_is_not_remembered(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * 100)
    checksums.sha256_file(path)
    _flip_keeping_size_and_mtime(path)  # maybe within the same tick of the clock: the same times
    assert checksums.sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_missing_file_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        checksums.sha256_file(tmp_path / "missing")
