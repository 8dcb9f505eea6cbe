"""Handing files to the site repo: real git repositories (a bare remote, clones, a
concurrent pusher), never a mocked git; real ``scrapy crawl`` runs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pipelines.publish import Change, PublishConfig, PublishError, commit_message, publish
from tests.conftest import WSCN, MockServer, free_routes, run_crawl

POSTS = "content/posts/wallstreetcn"
ENV = os.environ | {
    "GIT_AUTHOR_NAME": "editor", "GIT_AUTHOR_EMAIL": "editor@example.com",
    "GIT_COMMITTER_NAME": "editor", "GIT_COMMITTER_EMAIL": "editor@example.com",
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=ENV).stdout.strip()


@pytest.fixture
def repos(tmp_path: Path) -> dict[str, Path]:
    """A bare remote with one commit, the crawler's clone, and an editor's clone."""
    remote, seed = tmp_path / "site.git", tmp_path / "seed"
    subprocess.run(["git", "init", "--quiet", "--bare", "--initial-branch=main", str(remote)], check=True)
    subprocess.run(["git", "clone", "--quiet", str(remote), str(seed)], check=True, capture_output=True)
    (seed / "hugo.toml").write_text('title = "site"\n', encoding="utf-8")
    git(seed, "add", "hugo.toml")
    git(seed, "commit", "--quiet", "-m", "site")
    git(seed, "push", "--quiet", "origin", "main")
    clones = {"remote": remote}
    for name in ("site", "editor"):
        subprocess.run(["git", "clone", "--quiet", str(remote), str(tmp_path / name)], check=True, capture_output=True)
        clones[name] = tmp_path / name
    return clones


def editor_pushes(editor: Path, name: str) -> str:
    """Another job pushes to the remote: the crawler's clone is now behind."""
    git(editor, "pull", "--quiet", "--rebase", "origin", "main")
    page = editor / "content" / f"{name}.md"
    page.parent.mkdir(exist_ok=True)
    page.write_text(f"# {name}\n", encoding="utf-8")
    git(editor, "add", ".")
    git(editor, "commit", "--quiet", "-m", f"editor: {name}")
    git(editor, "push", "--quiet", "origin", "main")
    return git(editor, "rev-parse", "HEAD")


def crawl(server: MockServer, out: Path, *args: str, **settings: str):
    return run_crawl("wallstreetcn", out, *args, settings={
        "WALLSTREETCN_API_BASE": server.url, "SITE_PUSH_BACKOFF": "0.05", **settings})


def test_commits_and_pushes_rebasing_over_a_concurrent_push_then_nothing_when_unchanged(repos, tmp_path: Path) -> None:
    remote, site = repos["remote"], repos["site"]
    editors_commit = editor_pushes(repos["editor"], "about")  # after the crawler's clone was made
    with MockServer(free_routes(), tmp_path) as server:
        first = crawl(server, tmp_path / "out", f"site_repo={site}")
        first_report = first.report()
        head = git(remote, "rev-parse", "main")
        second = crawl(server, tmp_path / "out", f"site_repo={site}")
        second_report = second.report()

    assert first.returncode == 0, first.log
    assert "refused, rebasing" in first.log
    assert first_report["publish"] == {"status": "pushed", "commit": git(remote, "rev-parse", "main"), "detail": "2 push attempt(s)"}
    subject, _, body = git(remote, "log", "-1", "--format=%s%n%n%b", "main").partition("\n\n")
    assert subject == "news-ingest: 2 new, 0 updated article(s)"
    assert f"new: {POSTS}/3740710.md 马克龙豪掷1090亿开欧洲「星际之门」，Mistral狂飙登顶法国APP榜首！ <https://wallstreetcn.com/articles/3740710>" in body
    assert f"new: {POSTS}/3782700.md" in body
    assert git(remote, "rev-parse", "main~1") == editors_commit  # rebased on top of the other push
    tree = git(remote, "ls-tree", "-r", "--name-only", "main").splitlines()
    assert sorted(tree) == ["content/about.md", f"{POSTS}/3740710.md", f"{POSTS}/3782700.md", "hugo.toml"]
    shown = subprocess.run(["git", "-C", str(remote), "show", f"main:{POSTS}/3740710.md"], capture_output=True, check=True).stdout
    assert shown == (WSCN / "seed-3740710.md").read_bytes()
    assert git(site, "status", "--porcelain") == ""  # state and reports stay in OUTPUT_DIR, not in the site repo

    assert second.returncode == 0, second.log
    assert second_report["publish"]["status"] == "nothing"
    assert git(remote, "rev-parse", "main") == head  # nothing changed, nothing committed
    assert git(site, "rev-parse", "HEAD") == head


def test_push_refused_by_a_push_racing_it_is_rebased_and_retried(repos, tmp_path: Path) -> None:
    """A pusher that strikes while our push is under way (from the pre-push hook, once)."""
    remote, site, editor = repos["remote"], repos["site"], repos["editor"]
    hook = site / ".git" / "hooks" / "pre-push"
    hook.write_text(
        "#!/bin/sh\n"
        "unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE\n"
        f"[ -e '{tmp_path}/raced' ] && exit 0\n"
        f"touch '{tmp_path}/raced'\n"
        f"git -C '{editor}' commit --quiet --allow-empty -m 'editor: racing push' && git -C '{editor}' push --quiet origin main\n",
        encoding="utf-8",
    )
    hook.chmod(0o755)
    with MockServer(free_routes(), tmp_path) as server:
        result = crawl(server, tmp_path / "out", SITE_REPO=str(site))
    assert result.returncode == 0, result.log
    assert (tmp_path / "raced").exists()
    assert git(remote, "log", "-1", "--format=%s", "main~1") == "editor: racing push"
    assert git(remote, "log", "-1", "--format=%s", "main").startswith("news-ingest: 2 new")
    assert result.report()["publish"]["detail"] == "2 push attempt(s)"


def test_unreachable_remote_is_exit_5_and_the_next_run_pushes_the_pending_commit(repos, tmp_path: Path) -> None:
    remote, site = repos["remote"], repos["site"]
    git(site, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    with MockServer(free_routes(), tmp_path) as server:
        failed = crawl(server, tmp_path / "out", SITE_REPO=str(site), SITE_PUSH_ATTEMPTS="2")
        assert failed.returncode == 5, failed.log
        assert failed.report()["publish"]["status"] == "failed"
        assert git(site, "log", "-1", "--format=%s").startswith("news-ingest: 2 new")  # committed, not lost
        git(site, "remote", "set-url", "origin", str(remote))
        retried = crawl(server, tmp_path / "out", SITE_REPO=str(site))
    assert retried.returncode == 0, retried.log
    assert retried.report()["publish"]["status"] == "pushed"
    assert git(remote, "rev-parse", "main") == git(site, "rev-parse", "HEAD")


def test_conflicting_remote_edit_is_a_clear_error_and_leaves_the_commit_local(repos) -> None:
    """Hand-made conflict: the editor rewrote the very file the run changed."""
    remote, site, editor = repos["remote"], repos["site"], repos["editor"]
    for repo, text in ((editor, "editor's\n"), (site, "crawler's\n")):
        page = repo / "content" / "posts" / "x.md"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(text, encoding="utf-8")
    editor_pushes(editor, "other")  # commits content/posts/x.md too
    config = PublishConfig(repo=site, paths=("content/posts",), attempts=3, backoff=0.01)
    with pytest.raises(PublishError, match="rebase onto origin/main failed"):
        publish(config, [Change("new", "content/posts/x.md", "X", "https://example.com/x")])
    assert git(site, "status", "--porcelain") == ""  # rebase aborted, nothing half-done
    assert git(site, "show", "HEAD:content/posts/x.md") == "crawler's"
    assert git(site, "log", "-1", "--format=%s") == "news-ingest: 1 new, 0 updated article(s)"
    assert git(remote, "show", "main:content/posts/x.md") == "editor's"


def test_commit_message_lists_the_articles_and_files_an_earlier_run_left() -> None:
    changes = [Change("new", "content/posts/a/1.md", "One", "https://a/1"), Change("updated", "content/posts/a/2.md", "Two", "https://a/2")]
    message = commit_message(changes, ["content/posts/a/1.md", "content/posts/a/2.md", "content/posts/a/0.md"])
    assert message == (
        "news-ingest: 1 new, 1 updated article(s), 1 file(s) left by an earlier run\n\n"
        "new: content/posts/a/1.md One <https://a/1>\n"
        "updated: content/posts/a/2.md Two <https://a/2>\n"
        "left by an earlier run: content/posts/a/0.md\n"
    )


def test_files_an_interrupted_run_left_are_committed_but_never_its_temporary_files(repos) -> None:
    """A run killed after writing (before committing) leaves files, maybe a temporary one too."""
    remote, site = repos["remote"], repos["site"]
    posts = site / "content" / "posts" / "wallstreetcn"
    posts.mkdir(parents=True)
    (posts / "3740710.md").write_bytes((WSCN / "seed-3740710.md").read_bytes())
    (posts / ".3782700.md.k2j4x8.tmp").write_text("half a fi", encoding="utf-8")  # hand-made leftover
    result = publish(PublishConfig(repo=site, paths=("content/posts",)), [])
    assert result.status == "pushed"
    assert git(remote, "ls-tree", "-r", "--name-only", "main").splitlines() == ["content/posts/wallstreetcn/3740710.md", "hugo.toml"]
    assert git(remote, "log", "-1", "--format=%s%n%b", "main") == (
        "news-ingest: 0 new, 0 updated article(s), 1 file(s) left by an earlier run\n"
        "left by an earlier run: content/posts/wallstreetcn/3740710.md"
    )
    assert publish(PublishConfig(repo=site, paths=("content/posts",)), []).status == "nothing"


def test_stale_git_lock_of_a_killed_run_is_cleared_a_fresh_one_is_respected(repos) -> None:
    """Hand-made leftover: git killed mid-command leaves .git/index.lock behind."""
    site = repos["site"]
    page = site / "content" / "posts" / "x.md"
    page.parent.mkdir(parents=True)
    page.write_text("x\n", encoding="utf-8")
    lock = site / ".git" / "index.lock"
    lock.touch()
    config = PublishConfig(repo=site, paths=("content/posts",), stale_lock=600)
    with pytest.raises(PublishError, match="index.lock"):  # a live git may hold it: leave it alone
        publish(config, [])
    old = lock.stat().st_mtime - 601
    os.utime(lock, (old, old))
    assert publish(config, []).status == "pushed"
    assert not lock.exists()
    assert git(repos["remote"], "show", "main:content/posts/x.md") == "x"
