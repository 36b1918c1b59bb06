"""`peernode file add CIRCLE PATH...`: several paths at once, a bar while copying big
ones, one sentence for each path that cannot be shared, the others shared all the same."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import peernode.cli.progress
from tests.conftest import RunCli
from tests.peernode.test_files import CIRCLE

BIG = 3 * 1024 * 1024  # three blocks of copying: three chances to show the bar


def init(home: str, invoke_cli: RunCli) -> None:
    assert invoke_cli("--home", home, "init", "--name", "Ana").returncode == 0


def test_several_paths_and_a_folder_at_once(tmp_path: Path, invoke_cli: RunCli) -> None:
    home = str(tmp_path / "home")
    init(home, invoke_cli)
    (tmp_path / "week1.pdf").write_bytes(b"%PDF" * 100)
    exercises = tmp_path / "exercises"
    (exercises / "day1").mkdir(parents=True)
    (exercises / "day1" / "joins.sql").write_text("SELECT 1;\n")
    (exercises / "README.md").write_text("# Exercises\n")
    paths = [str(tmp_path / "week1.pdf"), str(exercises)]
    added = invoke_cli("--home", home, "file", "add", CIRCLE, *paths, "--json")
    assert added.returncode == 0, added.stderr
    records = [json.loads(line) for line in added.stdout.splitlines()]
    assert [(r["name"], r["type"], r["size"]) for r in records] == [
        ("week1.pdf", "file", 400),
        ("exercises", "folder", 22),
    ]
    listed = invoke_cli("--home", home, "file", "list", CIRCLE, "--json")
    assert [json.loads(line)["name"] for line in listed.stdout.splitlines()] == [
        "week1.pdf",
        "exercises",
    ]


def test_each_bad_path_gets_one_sentence_and_the_others_are_shared(
    tmp_path: Path, invoke_cli: RunCli
) -> None:
    home = str(tmp_path / "home")
    init(home, invoke_cli)
    good = tmp_path / "week1.pdf"
    good.write_bytes(b"%PDF" * 100)
    link = tmp_path / "link.pdf"
    link.symlink_to(good)
    huge = tmp_path / "huge.iso"
    with open(huge, "wb") as sparse:  # bigger than any blob may be, yet no bytes on disk
        sparse.truncate(17 * 1024**3)
    missing = tmp_path / "missing.pdf"
    args = [str(missing), str(link), str(good), str(huge)]
    result = invoke_cli("--home", home, "file", "add", CIRCLE, *args)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert f"peernode: {missing} does not exist: check its name and folder." in lines
    assert f"peernode: {link} is a symbolic link: share the file it points to instead." in lines
    assert any(line.startswith(f"peernode: {huge} is too big to share (18 GB;") for line in lines)
    assert lines[-1] == (
        "peernode: 3 of 4 paths could not be shared (see above); the others are shared"
    )
    assert "shared week1.pdf (400 bytes) with #sql-basics" in result.stdout
    listed = invoke_cli("--home", home, "file", "list", CIRCLE)
    assert "week1.pdf" in listed.stdout
    assert "huge.iso" not in listed.stdout


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_is_named(tmp_path: Path, invoke_cli: RunCli) -> None:
    home = str(tmp_path / "home")
    init(home, invoke_cli)
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"x")
    secret.chmod(0)
    result = invoke_cli("--home", home, "file", "add", CIRCLE, str(secret))
    assert result.returncode == 1
    assert f"{secret} cannot be read by you" in result.stderr
    assert "nothing was shared: fix the 1 path above and try again" in result.stderr


def test_a_big_file_shows_a_bar_while_it_is_copied(
    tmp_path: Path, invoke_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(peernode.cli.progress, "SHOW_EVERY", 0.0)  # every block, not every 0.5 s
    home = str(tmp_path / "home")
    init(home, invoke_cli)
    lecture = tmp_path / "lecture.mp4"
    lecture.write_bytes(os.urandom(BIG))
    result = invoke_cli("--home", home, "file", "add", CIRCLE, str(lecture), "--title", "Lecture")
    assert result.returncode == 0, result.stderr
    bars = [line for line in result.stderr.splitlines() if line.startswith("copying lecture.mp4:")]
    assert bars[0].startswith("copying lecture.mp4: 1.0 MB of 3.1 MB · ")
    assert "MB/s" in bars[0]
    assert bars[-1] == "copying lecture.mp4: 3.1 MB of 3.1 MB · done"
    assert "Lecture · lecture.mp4  (file, 3.1 MB, on this laptop)" in result.stdout


def test_a_quick_copy_shows_no_bar(tmp_path: Path, invoke_cli: RunCli) -> None:
    home = str(tmp_path / "home")
    init(home, invoke_cli)
    (tmp_path / "a.txt").write_text("a")
    result = invoke_cli("--home", home, "file", "add", CIRCLE, str(tmp_path / "a.txt"))
    assert result.returncode == 0, result.stderr
    assert "copying" not in result.stderr


def test_a_title_names_one_file_only(tmp_path: Path, invoke_cli: RunCli) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    paths = [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    result = invoke_cli(
        "--home", str(tmp_path / "h"), "file", "add", CIRCLE, *paths, "--title", "T"
    )
    assert result.returncode == 2
    assert "--title names one file: give it with one PATH only" in result.stderr


def test_the_list_says_where_the_count_of_laptops_comes_from(
    tmp_path: Path, invoke_cli: RunCli
) -> None:
    home = str(tmp_path / "home")
    init(home, invoke_cli)
    (tmp_path / "week1.pdf").write_bytes(b"%PDF" * 100)
    assert (
        invoke_cli("--home", home, "file", "add", CIRCLE, str(tmp_path / "week1.pdf")).returncode
        == 0
    )
    listed = invoke_cli("--home", home, "file", "list")
    assert listed.returncode == 0
    assert "(file, 400 bytes, on this laptop)  shared by Ana" in listed.stdout
    assert "how many laptops have each file shows while peernode runs" in listed.stderr
    record = json.loads(invoke_cli("--home", home, "file", "list", "--json").stdout)
    assert record["peers"] is None
    assert record["presence"] == "here"


def test_a_bad_circle_name_is_said_once_and_nothing_is_copied(
    tmp_path: Path, invoke_cli: RunCli
) -> None:
    home = str(tmp_path / "home")
    init(home, invoke_cli)
    for name in ("week1.pdf", "week2.pdf"):
        (tmp_path / name).write_bytes(b"%PDF" * 100)
    paths = [str(tmp_path / "week1.pdf"), str(tmp_path / "week2.pdf")]
    result = invoke_cli("--home", home, "file", "add", "Intro to SQL", *paths)
    assert result.returncode != 0
    assert result.stderr.count("peernode:") == 1
    assert "lowercase letters" in result.stderr
    listed = invoke_cli("--home", home, "file", "list", "--json")
    assert listed.stdout.strip() == ""
