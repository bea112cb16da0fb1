"""What a record says about the code that made it."""

import subprocess

import pytest

from regprune import environment


def _git(repo, *args):
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=repo, check=True,
                   capture_output=True)


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "code.py").write_text("x = 1\n")
    for folder in environment.NOT_CODE:
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "record.json").write_text("{}\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "start")
    return tmp_path


def _dirty(repo) -> bool:
    environment.git_commit.cache_clear()
    try:
        return environment.git_commit(str(repo / "src"))["git_dirty"]
    finally:
        environment.git_commit.cache_clear()


def test_changed_stored_results_are_not_dirty_code(repo):
    """A record or bench result awaiting its commit leaves the code clean; a changed source file
    does not, asked from any folder of the checkout."""
    assert _dirty(repo) is False
    for folder in environment.NOT_CODE:
        (repo / folder / "record.json").write_text('{"changed": true}\n')
    assert _dirty(repo) is False
    (repo / "src" / "code.py").write_text("x = 2\n")
    assert _dirty(repo) is True
