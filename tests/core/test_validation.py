"""Every kind of bad or odd file gets the right verdict, and the cache makes reopening instant."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from corpus import RUNNING_AS_ROOT, build_bad_corpus, usable_count
from desktop_app.core.data.scan import scan_folder
from desktop_app.core.data.validate import ValidationStats, validate_index


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "bad corpus ünï"
    return root, build_bad_corpus(root)


def test_every_bad_or_odd_file_gets_its_verdict_and_reason(corpus):
    root, expected = corpus
    assert len(expected) - 8 >= 14  # well over 14 kinds besides the plain photos
    index = scan_folder(root)
    stats = ValidationStats()
    checked = validate_index(index, stats=stats)

    bad = {b.path.relative_to(root).as_posix(): b for b in checked.bad_files}
    usable = {f.path.relative_to(root).as_posix() for f in checked.files}
    for rel, want in expected.items():
        if rel == "alpha/locked.jpg" and RUNNING_AS_ROOT:
            continue  # root reads any file; test_unreadable_file_as_another_user covers it
        if want.usable:
            assert rel in usable, rel
            notes = " ".join(checked.notes.get(root / rel, ()))
            assert want.code in notes, (rel, notes)
        else:
            assert rel in bad, rel
            assert bad[rel].problem == want.code, (rel, bad[rel])
            assert bad[rel].reason.endswith(".") and len(bad[rel].reason) > 20
    # Hidden and system files are ignored silently; nested and looping folders only warn.
    names = {p.split("/")[-1] for p in usable | set(bad)}
    assert not names & {".hidden.jpg", ".DS_Store", "Thumbs.db", "readme.txt", "deeper.jpg"}
    text = " ".join(checked.warnings)
    assert "empty_class" in text and "sub-folders" in text and "loops back" in text
    assert checked.classes == ["alpha", "beta"]
    assert len(checked.files) == usable_count(expected)


def test_reopening_an_unchanged_folder_uses_the_cache(corpus):
    root, _ = corpus
    first = ValidationStats()
    validate_index(scan_folder(root), stats=first)
    assert first.checked > 0 and first.from_cache == 0
    again = ValidationStats()
    second = validate_index(scan_folder(root), stats=again)
    assert again.checked <= 1  # only a file that could not be read is checked again
    # A changed file is checked again and its new verdict counts.
    (root / "alpha" / "plain_0.jpg").write_bytes(b"")
    third_stats = ValidationStats()
    third = validate_index(scan_folder(root), stats=third_stats)
    assert third_stats.checked >= 1
    assert any(b.path.name == "plain_0.jpg" and b.problem == "empty" for b in third.bad_files)
    assert len(third.files) == len(second.files) - 1


def test_already_validated_index_is_returned_as_is(image_folder):
    checked = validate_index(scan_folder(image_folder))
    assert checked.validated and validate_index(checked) is checked


def test_stop_request_ends_the_check(image_folder):
    from desktop_app.core.data.validate import ValidationStopped

    with pytest.raises(ValidationStopped):
        validate_index(scan_folder(image_folder), should_stop=lambda: True, use_cache=False)


@pytest.mark.skipif(not RUNNING_AS_ROOT or not hasattr(os, "setuid"), reason="needs root to become another user")
def test_unreadable_file_as_another_user():
    """chmod 000 does not stop root, so check the file from a process running as 'nobody'."""
    folder = Path(tempfile.mkdtemp(prefix="ts-perm-"))
    try:
        folder.chmod(0o755)
        locked = folder / "locked.jpg"
        shutil.copyfile(Path(__file__), locked)  # content does not matter: it is never read
        locked.chmod(0)
        code = ("import sys; from desktop_app.core.data.validate import check_file; "
                "v = check_file(sys.argv[1]); print(v.problem); print(v.reason)")
        try:
            result = subprocess.run(
                [sys.executable, "-c", code, str(locked)], capture_output=True, text=True, timeout=60,
                preexec_fn=lambda: (os.setgid(65534), os.setuid(65534)),
                env={**os.environ, "TRANSFER_STUDIO_DATA_DIR": str(folder / "data")},
            )
        except PermissionError:
            pytest.skip("the user 'nobody' may not run this Python installation")
        if result.returncode != 0 and "locked" not in result.stderr:
            pytest.skip(f"'nobody' cannot import the app here: {result.stderr[-200:]}")
        assert result.returncode == 0, result.stderr
        problem, reason = result.stdout.splitlines()[:2]
        assert problem == "unreadable"
        assert "not allowed to read" in reason
    finally:
        shutil.rmtree(folder, ignore_errors=True)
