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
    with pytest.raises(PublishError, match="origin changed content/posts/x.md") as raised:
        publish(config, [Change("new", "content/posts/x.md", "X", "https://example.com/x")], ["content/posts/x.md"])
    assert raised.value.reason == "rebase-conflict"
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
    left = ["content/posts/wallstreetcn/3740710.md", "content/posts/wallstreetcn/.3782700.md.k2j4x8.tmp"]
    result = publish(PublishConfig(repo=site, paths=("content/posts",)), [], left)
    assert result.status == "pushed"
    assert git(remote, "ls-tree", "-r", "--name-only", "main").splitlines() == ["content/posts/wallstreetcn/3740710.md", "hugo.toml"]
    assert git(remote, "log", "-1", "--format=%s%n%b", "main") == (
        "news-ingest: 0 new, 0 updated article(s), 1 file(s) left by an earlier run\n"
        "left by an earlier run: content/posts/wallstreetcn/3740710.md"
    )
    assert publish(PublishConfig(repo=site, paths=("content/posts",)), [], left).status == "nothing"


def test_stale_git_lock_of_a_killed_run_is_cleared_a_fresh_one_is_respected(repos) -> None:
    """Hand-made leftover: git killed mid-command leaves .git/index.lock behind."""
    site = repos["site"]
    page = site / "content" / "posts" / "x.md"
    page.parent.mkdir(parents=True)
    page.write_text("x\n", encoding="utf-8")
    lock = site / ".git" / "index.lock"
    lock.touch()
    config = PublishConfig(repo=site, paths=("content/posts",), stale_lock=600)
    with pytest.raises(PublishError, match="index.lock") as raised:  # a live git may hold it: leave it alone
        publish(config, [], ["content/posts/x.md"])
    assert raised.value.reason == "index-locked"
    old = lock.stat().st_mtime - 601
    os.utime(lock, (old, old))
    assert publish(config, [], ["content/posts/x.md"]).status == "pushed"
    assert not lock.exists()
    assert git(repos["remote"], "show", "main:content/posts/x.md") == "x"


# --- The site checkout is also the owner's: their work is never committed, pushed or touched ---

OURS = (f"{POSTS}/3740710.md", f"{POSTS}/3782700.md")  #: what a crawl of free_routes() writes


def snapshot(repo: Path, ignore: tuple[str, ...] = OURS) -> dict[str, object]:
    """Everything the owner can see of their checkout, except the paths in ``ignore``: status,
    staged and unstaged diffs, index stages, and every file's bytes."""
    keep = [f":(exclude){path}" for path in ignore]
    files = {str(p.relative_to(repo)): p.read_bytes() for p in sorted(repo.rglob("*"))
             if p.is_file() and ".git" not in p.relative_to(repo).parts and str(p.relative_to(repo)) not in ignore}
    return {
        "status": git(repo, "status", "--porcelain", "--untracked-files=all", "--", ".", *keep),
        "staged": git(repo, "diff", "--cached", "--", ".", *keep),
        "unstaged": git(repo, "diff", "--", ".", *keep),
        "stages": git(repo, "ls-files", "--stage", "--", ".", *keep),
        "files": files,
    }


@pytest.fixture
def owned(repos: dict[str, Path]) -> dict[str, Path]:
    """The crawler's checkout as a site owner leaves it: tracked pages of their own (pushed), then
    hand-made local work — an untracked draft next to our articles and one elsewhere, an
    unstaged edit of a tracked page in our folder, an unstaged edit elsewhere, a staged
    ``hugo.toml`` change."""
    site = repos["site"]
    for path, text in (("content/about.md", "# About\n"), (f"{POSTS}/owner.md", "# Owner's own post\n")):
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(text, encoding="utf-8")
    git(site, "add", ".")
    git(site, "commit", "--quiet", "-m", "owner: pages")
    git(site, "push", "--quiet", "origin", "main")
    (site / POSTS / "draft.md").write_text("# Draft, not for publishing\n", encoding="utf-8")
    (site / "content" / "drafts").mkdir()
    (site / "content" / "drafts" / "next.md").write_text("# Next week\n", encoding="utf-8")
    (site / POSTS / "owner.md").write_text("# Owner's own post, half edited\n", encoding="utf-8")
    (site / "content" / "about.md").write_text("# About us (unsaved)\n", encoding="utf-8")
    (site / "hugo.toml").write_text('title = "site, renamed"\n', encoding="utf-8")
    git(site, "add", "hugo.toml")
    return repos


def committed_paths(repo: Path, commit: str) -> list[str]:
    return git(repo, "diff-tree", "-r", "--name-only", "--no-commit-id", commit).splitlines()


def test_only_the_runs_files_are_committed_and_the_owners_work_is_left_exactly_as_it_was(owned, tmp_path: Path) -> None:
    remote, site = owned["remote"], owned["site"]
    before, head = snapshot(site), git(site, "rev-parse", "HEAD")
    with MockServer(free_routes(), tmp_path) as server:
        result = crawl(server, tmp_path / "out", SITE_REPO=str(site))
    assert result.returncode == 0, result.log
    assert snapshot(site) == before
    assert git(site, "status", "--porcelain", "--", *OURS) == ""  # ours are committed, nothing of theirs is
    assert git(site, "rev-parse", "HEAD~1") == head and git(remote, "rev-parse", "main") == git(site, "rev-parse", "HEAD")
    assert committed_paths(remote, "main") == list(OURS)
    assert git(remote, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "main") == "news-ingest <news-ingest@localhost>|news-ingest <news-ingest@localhost>"
    assert git(remote, "show", "main:hugo.toml") == 'title = "site"'
    assert git(site, "diff", "--cached", "--name-only") == "hugo.toml"  # still staged, not committed


def diverge_hugo_toml(site: Path) -> None:
    """A branch ``side`` and ``main`` that changed hugo.toml differently (the owner's own work set aside)."""
    git(site, "stash", "--quiet")
    git(site, "checkout", "--quiet", "-b", "side", "HEAD~1")
    (site / "hugo.toml").write_text('title = "side"\n', encoding="utf-8")
    git(site, "commit", "--quiet", "-am", "side")
    git(site, "checkout", "--quiet", "main")
    (site / "hugo.toml").write_text('title = "main"\n', encoding="utf-8")
    git(site, "commit", "--quiet", "-am", "main")


def make_mid_merge(site: Path) -> None:
    """A merge the owner has not concluded (a conflict in hugo.toml)."""
    diverge_hugo_toml(site)
    assert subprocess.run(["git", "-C", str(site), "merge", "side"], capture_output=True, env=ENV).returncode == 1


def make_mid_rebase(site: Path) -> None:
    """An interactive rebase stopped at a ``break``."""
    git(site, "stash", "--quiet")
    git(site, "-c", "sequence.editor=sed -i 1ibreak", "rebase", "--quiet", "-i", "HEAD~1")


def make_detached(site: Path) -> None:
    git(site, "checkout", "--quiet", "--detach")


def make_locked(site: Path) -> None:
    """A fresh index.lock: a live git is writing the index."""
    (site / ".git" / "index.lock").touch()


def make_mid_cherry_pick(site: Path) -> None:
    """A cherry-pick stopped by a conflict."""
    diverge_hugo_toml(site)
    assert subprocess.run(["git", "-C", str(site), "cherry-pick", "side"], capture_output=True, env=ENV).returncode != 0


BUSY = {
    "mid-merge": (make_mid_merge, ["merge", "--abort"]),
    "mid-rebase": (make_mid_rebase, ["rebase", "--abort"]),
    "mid-cherry-pick": (make_mid_cherry_pick, ["cherry-pick", "--abort"]),
    "detached-head": (make_detached, ["checkout", "--quiet", "main"]),
    "index-locked": (make_locked, None),
}


@pytest.mark.parametrize("reason", BUSY)
def test_a_checkout_in_the_middle_of_something_is_left_alone_and_the_next_run_commits(owned, tmp_path: Path, reason: str) -> None:
    remote, site = owned["remote"], owned["site"]
    make, undo = BUSY[reason]
    make(site)
    refs, before = git(site, "for-each-ref"), snapshot(site)
    remote_head = git(remote, "rev-parse", "main")
    with MockServer(free_routes(), tmp_path) as server:
        failed = crawl(server, tmp_path / "out", SITE_REPO=str(site))
        assert failed.returncode == 5, failed.log
        assert failed.stats()[f"publish/failed/{reason}"] == 1
        assert failed.report()["publish"]["detail"].startswith(f"{reason}: ")
        assert "Traceback" not in failed.log
        assert git(site, "for-each-ref") == refs and git(remote, "rev-parse", "main") == remote_head  # nothing committed
        assert snapshot(site) == before  # the owner's state, byte for byte
        assert all((site / path).exists() for path in OURS)  # written, waiting for the next run

        if undo:
            git(site, *undo)
        else:
            (site / ".git" / "index.lock").unlink()
        after_undo = snapshot(site)
        retried = crawl(server, tmp_path / "out", SITE_REPO=str(site))
    assert retried.returncode == 0, retried.log
    assert "article/new" not in retried.stats()  # nothing written this time: the files came from the state
    assert committed_paths(remote, "main") == list(OURS)
    assert git(remote, "log", "-1", "--format=%s", "main") == "news-ingest: 0 new, 0 updated article(s), 2 file(s) left by an earlier run"
    assert snapshot(site) == after_undo


def test_files_of_a_run_that_never_published_are_committed_by_the_next_run(repos, tmp_path: Path) -> None:
    """A run killed after writing: simulated by a run without the publishing extension, which
    writes into the site checkout (marking the files unpublished) and never commits."""
    remote, site = repos["remote"], repos["site"]
    with MockServer(free_routes(), tmp_path) as server:
        killed = crawl(server, tmp_path / "out", SITE_REPO=str(site),
                       EXTENSIONS='{"crawler.extensions.PublishExtension": null}')
        assert killed.returncode == 0, killed.log
        assert git(site, "status", "--porcelain", "--untracked-files=all") == "\n".join(f"?? {path}" for path in OURS)
        nothing_new = crawl(server, tmp_path / "out", SITE_REPO=str(site))
        again = crawl(server, tmp_path / "out", SITE_REPO=str(site))
    assert nothing_new.returncode == 0, nothing_new.log
    assert nothing_new.report()["publish"]["status"] == "pushed"
    assert committed_paths(remote, "main") == list(OURS)
    assert git(site, "status", "--porcelain", "--untracked-files=all") == ""
    assert again.report()["publish"]["status"] == "nothing"  # published files are forgotten


def test_state_store_keeps_unpublished_paths_until_published(tmp_path: Path) -> None:
    from pipelines.state import StateStore

    store = StateStore(tmp_path / "state.sqlite3")
    store.mark_unpublished(["content/posts/a/2.md", "content/posts/a/1.md"])
    store.mark_unpublished(["content/posts/a/1.md"])
    store.close()
    store = StateStore(tmp_path / "state.sqlite3")  # survives the process
    assert store.unpublished() == ["content/posts/a/1.md", "content/posts/a/2.md"]
    store.mark_published(["content/posts/a/1.md", "content/posts/a/9.md"])
    assert store.unpublished() == ["content/posts/a/2.md"]


def test_remote_moved_and_owner_has_unpushed_commits_pushes_ours_alone_rewriting_nothing(owned, tmp_path: Path) -> None:
    remote, site, editor = owned["remote"], owned["site"], owned["editor"]
    (site / "content" / "contact.md").write_text("# Contact\n", encoding="utf-8")
    git(site, "add", "content/contact.md")
    git(site, "commit", "--quiet", "-m", "owner: contact page, not pushed yet")
    owners_commit = git(site, "rev-parse", "HEAD")
    editors_commit = editor_pushes(editor, "news")
    before = snapshot(site)
    with MockServer(free_routes(), tmp_path) as server:
        result = crawl(server, tmp_path / "out", SITE_REPO=str(site))
    assert result.returncode == 0, result.log
    assert git(remote, "rev-parse", "main~1") == editors_commit
    assert committed_paths(remote, "main") == list(OURS)
    assert "content/contact.md" not in git(remote, "ls-tree", "-r", "--name-only", "main")  # theirs stays unpushed
    assert git(site, "rev-parse", "HEAD~1") == owners_commit  # not rewritten
    assert committed_paths(site, "HEAD") == list(OURS)
    assert git(site, "diff", "HEAD", "main@{u}", "--", *OURS) == ""
    assert snapshot(site) == before  # the remote's page did not reach their working tree either
    assert not (site / "content" / "news.md").exists()


def test_remote_moved_the_checkout_follows_keeping_the_owners_changes(owned, tmp_path: Path) -> None:
    remote, site, editor = owned["remote"], owned["site"], owned["editor"]
    editor_pushes(editor, "news")
    before = snapshot(site)
    with MockServer(free_routes(), tmp_path) as server:
        result = crawl(server, tmp_path / "out", SITE_REPO=str(site))
    assert result.returncode == 0, result.log
    assert git(site, "rev-parse", "HEAD") == git(remote, "rev-parse", "main")
    assert committed_paths(remote, "main") == list(OURS)
    after = snapshot(site)
    assert after["files"].pop("content/news.md") == b"# news\n"  # the remote's new page arrived
    news = f"100644 {git(remote, 'rev-parse', 'main:content/news.md')} 0\tcontent/news.md\n"
    assert news in after["stages"]
    after["stages"] = after["stages"].replace(news, "")
    assert after == before  # … and everything of the owner's is as it was: staged, unstaged, untracked


def test_remote_change_meeting_the_owners_local_change_fails_and_moves_nothing(owned, tmp_path: Path) -> None:
    """The editor pushed a hugo.toml change while the owner has one staged."""
    remote, site, editor = owned["remote"], owned["site"], owned["editor"]
    git(editor, "pull", "--quiet", "origin", "main")
    (editor / "hugo.toml").write_text('title = "editor"\n', encoding="utf-8")
    git(editor, "commit", "--quiet", "-am", "editor: title")
    git(editor, "push", "--quiet", "origin", "main")
    remote_head, before = git(remote, "rev-parse", "main"), snapshot(site)
    with MockServer(free_routes(), tmp_path) as server:
        result = crawl(server, tmp_path / "out", SITE_REPO=str(site))
    assert result.returncode == 5, result.log
    assert result.stats()["publish/failed/owner-changes"] == 1
    assert git(remote, "rev-parse", "main") == remote_head
    assert snapshot(site) == before
    assert committed_paths(site, "HEAD") == list(OURS)  # our commit stays local for the next run
    assert git(site, "rev-parse", "HEAD~1") == git(site, "rev-parse", "main@{u}~1")  # on the old remote tip


def test_paths_outside_the_article_folders_are_never_committed(repos) -> None:
    """Hand-made hostile paths handed to publish(): traversal, dot-files, the repo's own files."""
    site = repos["site"]
    (site / "hugo.toml").write_text("owned\n", encoding="utf-8")
    (site / "content" / "posts").mkdir(parents=True)
    (site / "content" / "posts" / "ok.md").write_text("ok\n", encoding="utf-8")
    paths = ["hugo.toml", "content/posts/../../hugo.toml", "/etc/passwd", "content/posts/.git/config", "content/posts/ok.md"]
    result = publish(PublishConfig(repo=site, paths=("content/posts",)), [], paths)
    assert committed_paths(repos["remote"], "main") == ["content/posts/ok.md"] and result.status == "pushed"
    assert git(site, "status", "--porcelain") == "M hugo.toml"


def conflicting_commit(site: Path) -> str:
    """A commit on a side branch changing hugo.toml, with main changing it too: the base of hand-made conflicts."""
    git(site, "checkout", "--quiet", "-b", "side")
    (site / "hugo.toml").write_text('title = "side"\n', encoding="utf-8")
    git(site, "commit", "--quiet", "-am", "side")
    side = git(site, "rev-parse", "HEAD")
    git(site, "checkout", "--quiet", "main")
    (site / "hugo.toml").write_text('title = "main"\n', encoding="utf-8")
    git(site, "commit", "--quiet", "-am", "main")
    return side


def start_revert(site: Path) -> None:
    git(site, "commit", "--quiet", "--allow-empty", "-m", "empty")
    (site / "hugo.toml").write_text('title = "again"\n', encoding="utf-8")
    git(site, "commit", "--quiet", "-am", "again")
    assert subprocess.run(["git", "-C", str(site), "revert", "--no-edit", "HEAD~2"], capture_output=True, env=ENV).returncode != 0


def start_am(site: Path) -> None:
    patch = git(site, "format-patch", "--stdout", "-1", conflicting_commit(site))
    assert subprocess.run(["git", "-C", str(site), "am"], input=patch + "\n", capture_output=True, text=True, env=ENV).returncode != 0


def start_bisect(site: Path) -> None:
    git(site, "bisect", "start")


@pytest.mark.parametrize(("reason", "make"), [("mid-revert", start_revert), ("mid-am", start_am), ("mid-bisect", start_bisect)])
def test_other_operations_under_way_are_refused_by_name(repos, reason: str, make) -> None:
    site = repos["site"]
    make(site)
    page = site / "content" / "posts" / "x.md"
    page.parent.mkdir(parents=True)
    page.write_text("x\n", encoding="utf-8")
    refs, before = git(site, "for-each-ref"), snapshot(site, ignore=("content/posts/x.md",))
    with pytest.raises(PublishError) as raised:
        publish(PublishConfig(repo=site, paths=("content/posts",)), [], ["content/posts/x.md"])
    assert raised.value.reason == reason
    assert git(site, "for-each-ref") == refs and snapshot(site, ignore=("content/posts/x.md",)) == before


def test_a_file_the_run_removed_is_removed_in_the_commit_alone(repos) -> None:
    """Paths handed over that no longer exist are removals; the owner's other deletion stays unstaged."""
    remote, site = repos["remote"], repos["site"]
    posts = site / "content" / "posts"
    posts.mkdir(parents=True)
    for name in ("gone.md", "theirs.md"):
        (posts / name).write_text(f"{name}\n", encoding="utf-8")
    config = PublishConfig(repo=site, paths=("content/posts",))
    publish(config, [], ["content/posts/gone.md", "content/posts/theirs.md"])
    (posts / "gone.md").unlink()
    (posts / "theirs.md").unlink()  # the owner's own deletion, not handed over
    assert publish(config, [], ["content/posts/gone.md"]).status == "pushed"
    assert git(remote, "diff-tree", "-r", "--name-status", "--no-commit-id", "main") == "D\tcontent/posts/gone.md"
    assert git(site, "status", "--porcelain") == "D content/posts/theirs.md"


def test_owners_unpushed_commits_are_not_pushed_with_ours(repos) -> None:
    """The remote did not move, but the owner committed locally: a plain push would publish their commit."""
    remote, site = repos["remote"], repos["site"]
    (site / "draft-config.toml").write_text("draft\n", encoding="utf-8")
    git(site, "add", "draft-config.toml")
    git(site, "commit", "--quiet", "-m", "owner: not ready to publish")
    owners_commit = git(site, "rev-parse", "HEAD")
    page = site / "content" / "posts" / "x.md"
    page.parent.mkdir(parents=True)
    page.write_text("x\n", encoding="utf-8")
    result = publish(PublishConfig(repo=site, paths=("content/posts",)), [], ["content/posts/x.md"])
    assert result.status == "pushed" and result.commit == git(remote, "rev-parse", "main")
    assert git(remote, "ls-tree", "-r", "--name-only", "main").splitlines() == ["content/posts/x.md", "hugo.toml"]
    assert git(site, "rev-parse", "HEAD~1") == owners_commit and committed_paths(site, "HEAD") == ["content/posts/x.md"]
    assert git(site, "status", "--porcelain") == ""
    assert publish(PublishConfig(repo=site, paths=("content/posts",)), [], ["content/posts/x.md"]).status == "nothing"


def test_a_site_repo_that_is_no_checkout_or_only_part_of_one_is_refused(repos, tmp_path: Path) -> None:
    """Paths are relative to the checkout's top: a subfolder would commit them in the wrong place."""
    (repos["site"] / "sub" / "content").mkdir(parents=True)
    (tmp_path / "plain" / "content").mkdir(parents=True)
    for repo in (repos["site"] / "sub", tmp_path / "plain"):
        (repo / "content" / "x.md").write_text("x\n", encoding="utf-8")
        with pytest.raises(PublishError) as raised:
            publish(PublishConfig(repo=repo), [], ["content/x.md"])
        assert raised.value.reason == "not-a-repo"
    assert git(repos["remote"], "rev-list", "--count", "main") == "1"
