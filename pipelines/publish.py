"""Handing written files to the static-site git repo: one commit per run with the run's
own files only, pushed safely.

The site checkout is also the site owner's: it may hold untracked drafts, unstaged
edits, staged changes and unpushed commits. Publishing never goes through the owner's
index or working tree: the commit is built in a temporary index (``GIT_INDEX_FILE``)
from HEAD plus exactly the paths the run hands over (the files it wrote or removed,
and those an earlier run wrote but could not publish), the branch is moved with
``git update-ref <new> <old>`` (the old value guards against a concurrent move), and
then only those paths' entries of the real index are set to the new commit, so
``git status`` shows the owner's state exactly as before. ``index.lock`` is held
meanwhile, as git itself does, so no git of the owner's writes the index in between.

A checkout in the middle of a merge, rebase, cherry-pick, revert, am or bisect, on a
detached HEAD, or whose index a live git holds is left alone: ``PublishError`` with
a kebab-case ``reason``. A lock file older than ``stale_lock`` was left by a killed
git and is removed.

Pushing sends the run's commits and never the owner's unpushed ones. When the
remote moved (another job pushed), our commits are replayed onto it path by path
(a rebase that never touches a file the commit did not change); the local branch
follows with ``git read-tree -m -u`` (as a fast-forward checkout would: it refuses,
touching nothing, when the remote's changes meet the owner's local changes:
``owner-changes``). A remote that changed one of our files differently is a
``rebase-conflict``. When the owner has unpushed commits, the local branch stays as
it is (their commits are not rewritten) and the replay alone is pushed. Refused
pushes are retried with exponential backoff (tenacity).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path, PurePosixPath

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from pipelines.rerender import REWRITTEN as RERENDERED

logger = logging.getLogger(__name__)

#: files whose presence in the git dir means an operation of the owner's is under way
IN_PROGRESS = (
    ("MERGE_HEAD", "mid-merge", "a merge"),
    ("rebase-merge", "mid-rebase", "a rebase"),
    ("rebase-apply/applying", "mid-am", "a git am"),
    ("rebase-apply", "mid-rebase", "a rebase"),
    ("CHERRY_PICK_HEAD", "mid-cherry-pick", "a cherry-pick"),
    ("REVERT_HEAD", "mid-revert", "a revert"),
    ("sequencer", "mid-cherry-pick", "a cherry-pick or revert sequence"),
    ("BISECT_LOG", "mid-bisect", "a bisect"),
)
#: git's own environment that would point our commands at another repo or index
GIT_CONTEXT = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_PREFIX")

Entry = tuple[str, str]  #: (mode, object id) of a path in a tree


class PublishError(Exception):
    """The files could not be committed or pushed; ``reason`` names why (kebab-case), the message says more."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class PushRejected(Exception):
    """A push the remote refused (it moved) or could not take; worth another attempt."""


@dataclass(frozen=True)
class PublishConfig:
    repo: Path
    #: folder(s) in the repo the run owns, relative to its root; paths elsewhere are never committed
    paths: Sequence[str] = ("content",)
    remote: str = "origin"  #: "" to commit without pushing
    branch: str = ""  #: remote branch; "" = the checked-out branch's name
    author: str = "news-ingest <news-ingest@localhost>"
    attempts: int = 5
    backoff: float = 2.0  #: seconds before the second attempt; doubles, capped at 60
    #: age (s) past which a left-over ``index.lock`` is taken for a killed git's and removed
    stale_lock: float = 600.0


@dataclass(frozen=True)
class PublishResult:
    status: str  #: "nothing", "committed" (no remote), "pushed"
    commit: str = ""
    attempts: int = 0


@dataclass(frozen=True)
class Change:
    """One article file the run wrote, for the commit message."""

    status: str  #: "new", "updated" or RERENDERED
    path: str
    title: str
    url: str


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    author: tuple[str, str]
    committer: tuple[str, str]


class Git:
    def __init__(self, repo: Path, author: str):
        self.repo = repo
        self.identity = parseaddr(author)
        name, email = self.identity
        base = {key: value for key, value in os.environ.items() if key not in GIT_CONTEXT}
        self.env = base | {
            "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
            "GIT_TERMINAL_PROMPT": "0", "GIT_LITERAL_PATHSPECS": "1",
        }

    def run(self, *args: str, check: bool = True, stdin: str | None = None,
            env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["git", "-C", str(self.repo), *args], input=stdin, capture_output=True, text=True,
            env=self.env | dict(env or {}),
        )
        if check and proc.returncode != 0:
            raise PublishError("git-error", f"git {' '.join(args)} failed: {(proc.stderr or proc.stdout).strip()}")
        return proc

    def out(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        return self.run(*args, env=env).stdout.strip()

    def git_path(self, name: str) -> Path:
        return Path(self.out("rev-parse", "--path-format=absolute", "--git-path", name))

    def rev(self, ref: str) -> str | None:
        found = self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        return found.stdout.strip() if found.returncode == 0 else None


def commit_message(changes: Sequence[Change], staged: Sequence[str]) -> str:
    """Subject with the counts, then one line per article (and per file an earlier run left)."""
    known = {change.path for change in changes}
    left = [path for path in staged if path not in known]
    new = sum(change.status == "new" for change in changes)
    rerendered = sum(change.status == RERENDERED for change in changes)
    if changes and rerendered == len(changes):
        subject = f"news-ingest: re-rendered {rerendered} article(s) (format change, not an upstream edit)"
    else:
        subject = f"news-ingest: {new} new, {len(changes) - new} updated article(s)"
    if left:
        subject += f", {len(left)} file(s) left by an earlier run"
    lines = [f"{change.status}: {change.path} {change.title} <{change.url}>" for change in changes if change.path in staged]
    lines += [f"left by an earlier run: {path}" for path in left]
    return subject + "\n\n" + "\n".join(lines) + "\n"


def committable(paths: Sequence[str], folders: Sequence[str]) -> tuple[list[str], list[str]]:
    """(paths the run may commit, paths it must not): a relative path under one of ``folders``,
    with no ``..`` and no dot-file part (a temporary file of ``write_atomic``, or ``.git``)."""
    roots = [PurePosixPath(folder.strip("/") or ".") for folder in folders]
    allowed, refused = set(), set()
    for path in paths:
        pure = PurePosixPath(path)
        clean = (
            path and not pure.is_absolute() and "\\" not in path and "\0" not in path
            and all(part not in ("", "..") and not part.startswith(".") for part in pure.parts)
            and any(root == PurePosixPath(".") or pure.is_relative_to(root) for root in roots)
        )
        (allowed if clean else refused).add(pure.as_posix() if clean else path)
    return sorted(allowed), sorted(refused)


def clear_stale_lock(git: Git, older_than: float) -> None:
    """Remove ``index.lock`` when no live git can own it any more (git holds it for moments)."""
    lock = git.git_path("index.lock")
    try:
        age = time.time() - lock.stat().st_mtime
    except FileNotFoundError:
        return
    if age > older_than:
        logger.warning("Removing %s, left %.0f s ago by a git that did not finish", lock, age)
        lock.unlink(missing_ok=True)


@contextmanager
def index_lock(git: Git) -> Iterator[None]:
    """Hold ``index.lock`` as git does, so no other git writes the index while we rewrite parts of it."""
    lock = git.git_path("index.lock")
    try:
        os.close(os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    except FileExistsError:
        raise PublishError("index-locked", f"{lock} exists: another git is using the site checkout") from None
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def checked_out_branch(git: Git) -> str:
    """The checked-out branch's ref, after refusing a checkout in the middle of an operation of the owner's."""
    for name, reason, what in IN_PROGRESS:
        if git.git_path(name).exists():
            raise PublishError(reason, f"the site checkout {git.repo} is in the middle of {what}: nothing committed")
    head = git.run("symbolic-ref", "--quiet", "HEAD", check=False)
    if head.returncode != 0:
        raise PublishError("detached-head", f"the site checkout {git.repo} is on a detached HEAD: nothing committed")
    return head.stdout.strip()


@contextmanager
def scratch_index(git: Git, copy_of: Path | None = None) -> Iterator[tuple[dict[str, str], Path]]:
    """A temporary index next to the real one (a copy of ``copy_of`` when given): (env, path)."""
    real = git.git_path("index")
    folder = Path(tempfile.mkdtemp(prefix="news-ingest-index-", dir=real.parent))
    path = folder / "index"
    try:
        if copy_of is not None and copy_of.exists():
            shutil.copy2(copy_of, path)
        yield {"GIT_INDEX_FILE": str(path)}, path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def tree_entries(git: Git, treeish: str | None, paths: Sequence[str]) -> dict[str, Entry]:
    """Mode and object id of each of ``paths`` present in ``treeish``."""
    found: dict[str, Entry] = {}
    if treeish is None:
        return found
    for start in range(0, len(paths), 500):
        listing = git.run("ls-tree", "-r", "-z", "--full-tree", treeish, "--", *paths[start : start + 500]).stdout
        for record in filter(None, listing.split("\0")):
            info, path = record.split("\t", 1)
            mode, _, sha = info.split(" ")
            found[path] = (mode, sha)
    return found


def index_info(updates: Mapping[str, Entry | None], zero: str) -> str:
    """``git update-index -z --index-info`` input: set each path, or remove it (mode 0)."""
    return "".join(f"{entry[0]} {entry[1]}\t{path}\0" if entry else f"0 {zero}\t{path}\0" for path, entry in updates.items())


def sync_index(git: Git, commit: str, paths: Sequence[str]) -> None:
    """Set the real index's entries of ``paths`` to ``commit``'s, every other entry untouched.

    Called with ``index.lock`` held: the new index is built in a copy and renamed into place.
    """
    real = git.git_path("index")
    entries = tree_entries(git, commit, paths)
    with scratch_index(git, copy_of=real) as (env, copy):
        git.run("update-index", "-z", "--index-info", stdin=index_info({p: entries.get(p) for p in paths}, "0" * len(commit)), env=env)
        git.run("update-index", "-q", "--refresh", env=env, check=False)  # stat data, so status need not re-read them
        os.replace(copy, real)


def commit_paths(git: Git, ref: str, paths: Sequence[str], changes: Sequence[Change]) -> tuple[str, str | None]:
    """Commit the working-tree state of ``paths`` (and nothing else) on top of ``ref``.

    Returns (the branch tip, the new commit or None when nothing changed).
    """
    old = git.rev(ref)
    with scratch_index(git) as (env, _):
        if old:
            git.run("read-tree", old, env=env)
        git.run("update-index", "--add", "--remove", "-z", "--stdin", stdin="".join(f"{p}\0" for p in paths), env=env)
        tree = git.out("write-tree", env=env)
    old_tree = git.out("rev-parse", f"{old}^{{tree}}") if old else empty_tree(git)
    if tree == old_tree:
        if old:
            sync_index(git, old, paths)  # heals the index of a run killed between update-ref and its rename
        return old or "", None
    staged = git.run("diff-tree", "-r", "-z", "--name-only", "--no-renames", old_tree, tree).stdout.split("\0")
    staged = [path for path in staged if path]
    parents = ["-p", old] if old else []
    new = git.run("commit-tree", tree, *parents, "-F", "-", stdin=commit_message(changes, staged)).stdout.strip()
    move_ref(git, ref, new, old)
    sync_index(git, new, paths)
    logger.info("Committed %d file(s) to %s", len(staged), git.repo)
    return new, new


def empty_tree(git: Git) -> str:
    return git.run("hash-object", "-t", "tree", "--stdin", "-w", stdin="").stdout.strip()


def move_ref(git: Git, ref: str, new: str, old: str | None) -> None:
    """Move ``ref`` from ``old`` to ``new``; refused when it no longer is at ``old``."""
    moved = git.run("update-ref", "-m", "news-ingest: publish", ref, new, old or "0" * len(new), check=False)
    if moved.returncode != 0:
        raise PublishError("branch-moved", f"{ref} moved while publishing: {moved.stderr.strip()}")


def publish(config: PublishConfig, changes: Sequence[Change], paths: Sequence[str]) -> PublishResult:
    """Commit exactly ``paths`` (relative to the repo: written or removed by the run, or left
    unpublished by an earlier one; a path absent from the working tree is a removal) and
    push; raises PublishError. Paths outside ``config.paths`` are left out."""
    wanted, refused = committable(paths, config.paths)
    if refused:
        logger.warning("Not committing %d path(s) outside %s: %s", len(refused), ", ".join(config.paths), ", ".join(refused))
    if not wanted:
        return PublishResult("nothing")
    git = Git(config.repo, config.author)
    if git.run("rev-parse", "--show-prefix", check=False).stdout.strip() != "" or git.run(
            "rev-parse", "--is-inside-work-tree", check=False).stdout.strip() != "true":
        raise PublishError("not-a-repo", f"{config.repo} is not the top folder of a git checkout")
    clear_stale_lock(git, config.stale_lock)
    with index_lock(git):
        ref = checked_out_branch(git)
        tip, committed = commit_paths(git, ref, wanted, changes)
    if not config.remote:
        return PublishResult("committed" if committed else "nothing", committed or "")
    remote_branch = config.branch or ref.removeprefix("refs/heads/")
    attempts, pushed = push_with_retries(git, config, ref, remote_branch)
    if not pushed and not committed:
        return PublishResult("nothing")
    return PublishResult("pushed", pushed or tip, attempts)


def push_with_retries(git: Git, config: PublishConfig, ref: str, remote_branch: str) -> tuple[int, str]:
    """Push; on refusal fetch, replay onto the remote and try again. Returns (attempts used,
    the commit pushed or "" when the remote already held everything)."""
    attempt, pushed = 0, ""
    retrying = Retrying(
        stop=stop_after_attempt(config.attempts),
        wait=wait_exponential(multiplier=config.backoff, max=60),
        retry=retry_if_exception_type(PushRejected),
        reraise=True,
    )
    try:
        for attempt_state in retrying:
            with attempt_state:
                attempt = attempt_state.retry_state.attempt_number
                pushed = push_once(git, config, ref, remote_branch, fetch=attempt > 1)
    except PushRejected as exc:
        raise PublishError(
            "push-failed", f"push to {config.remote}/{remote_branch} still refused after {attempt} attempt(s): {exc}"
        ) from None
    return attempt, pushed


def push_once(git: Git, config: PublishConfig, ref: str, remote_branch: str, fetch: bool) -> str:
    """One attempt: our commits on top of what the remote holds, pushed.

    The first attempt trusts the remote-tracking branch (no network round trip); a
    refusal says it is stale, and the next attempt fetches.
    """
    upstream = remote_tip(git, config.remote, remote_branch, fetch)
    local = git.rev(ref)
    if local is None:
        return ""
    target = local
    if upstream is not None:
        ours, owners = local_commits(git, upstream, local, config)
        if owners or not is_ancestor(git, upstream, local):
            target = replay(git, ours, upstream, config.remote)
            if owners:
                logger.info("Pushing %d commit(s) of ours without the %d unpushed commit(s) of the site owner's", len(ours), len(owners))
            else:
                follow(git, ref, local, target)
        if target == upstream:
            return ""
    pushed = git.run("push", "--porcelain", config.remote, f"{target}:refs/heads/{remote_branch}", check=False)
    if pushed.returncode == 0:
        return target
    refusal = (pushed.stderr or pushed.stdout).strip()
    logger.warning("Push to %s/%s refused, rebasing onto it: %s", config.remote, remote_branch, refusal.splitlines()[-1:] or "")
    raise PushRejected(refusal)


def remote_tip(git: Git, remote: str, branch: str, fetch: bool) -> str | None:
    """The remote branch's commit (None: the remote has no such branch yet)."""
    if not fetch:
        known = git.rev(f"refs/remotes/{remote}/{branch}")
        if known:
            return known
    fetched = git.run("fetch", "--quiet", "--no-tags", remote, f"refs/heads/{branch}", check=False)
    if fetched.returncode != 0:
        if "couldn't find remote ref" in fetched.stderr:
            return None
        raise PushRejected(f"fetch from {remote} failed: {fetched.stderr.strip()}")
    return git.rev("FETCH_HEAD")


def is_ancestor(git: Git, ancestor: str, descendant: str) -> bool:
    return git.run("merge-base", "--is-ancestor", ancestor, descendant, check=False).returncode == 0


def local_commits(git: Git, upstream: str, local: str, config: PublishConfig) -> tuple[list[Commit], list[Commit]]:
    """The commits ``local`` has and ``upstream`` lacks, oldest first, as (ours, the owner's).

    Ours: made by the configured author, one parent, changing only paths under the run's folders.
    """
    log = git.run("log", "--topo-order", "--reverse", "--format=%H%x1f%P%x1f%an%x1f%ae%x1f%cn%x1f%ce", f"{upstream}..{local}").stdout
    ours: list[Commit] = []
    owners: list[Commit] = []
    for line in filter(None, log.splitlines()):
        sha, parents, author_name, author_email, committer_name, committer_email = line.split("\x1f")
        commit = Commit(sha, tuple(parents.split()), (author_name, author_email), (committer_name, committer_email))
        mine = commit.author == git.identity and commit.committer == git.identity and len(commit.parents) == 1
        if mine:
            touched = git.run("diff-tree", "-r", "-z", "--name-only", "--no-renames", "--no-commit-id", sha).stdout
            _, outside = committable([path for path in touched.split("\0") if path], config.paths)
            mine = not outside
        (ours if mine else owners).append(commit)
    return ours, owners


def commit_changes(git: Git, commit: Commit) -> dict[str, tuple[Entry | None, Entry | None]]:
    """What ``commit`` did to each path it touched: (entry before, entry after; None = absent)."""
    raw = git.run("diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", commit.parents[0], commit.sha).stdout
    tokens = raw.split("\0")
    changes: dict[str, tuple[Entry | None, Entry | None]] = {}
    for info, path in zip(tokens[0::2], tokens[1::2]):
        old_mode, new_mode, old_sha, new_sha, _ = info.lstrip(":").split(" ")
        changes[path] = (None if set(old_mode) == {"0"} else (old_mode, old_sha),
                         None if set(new_mode) == {"0"} else (new_mode, new_sha))
    return changes


def replay(git: Git, commits: Sequence[Commit], onto: str, remote: str) -> str:
    """Our commits re-made on top of ``onto``, path by path, like a rebase that never reads the
    working tree. A path the remote changed differently is a ``rebase-conflict``; a commit the
    remote already holds (an earlier replay) adds nothing."""
    tip = onto
    for commit in commits:
        changes = commit_changes(git, commit)
        have = tree_entries(git, tip, list(changes))
        updates: dict[str, Entry | None] = {}
        for path, (before, after) in changes.items():
            if have.get(path) == after:
                continue
            if have.get(path) != before:
                raise PublishError(
                    "rebase-conflict",
                    f"{remote} changed {path}, which our commit {commit.sha[:12]} changes too: the commit stays local",
                )
            updates[path] = after
        if updates:
            tip = recommit(git, commit, tip, updates)
    return tip


def recommit(git: Git, commit: Commit, onto: str, updates: Mapping[str, Entry | None]) -> str:
    """``commit``'s message and author date on ``onto``'s tree with ``updates`` applied."""
    with scratch_index(git) as (env, _):
        git.run("read-tree", onto, env=env)
        git.run("update-index", "-z", "--index-info", stdin=index_info(updates, "0" * len(onto)), env=env)
        tree = git.out("write-tree", env=env)
    headers, _, message = git.run("cat-file", "commit", commit.sha).stdout.partition("\n\n")
    author = next(line for line in headers.splitlines() if line.startswith("author "))
    date = author[author.rindex(">") + 1 :].strip()
    return git.run("commit-tree", tree, "-p", onto, "-F", "-", stdin=message, env={"GIT_AUTHOR_DATE": date}).stdout.strip()


def follow(git: Git, ref: str, old: str, new: str) -> None:
    """Move the checked-out branch from ``old`` to ``new`` as a fast-forward checkout would.

    ``git read-tree -m -u`` brings the remote's changes into the working tree and index
    only where the owner has no local change (staged, unstaged or an untracked file in
    the way) and keeps every other local change as it is; otherwise it touches nothing,
    the branch goes back, and the run fails ``owner-changes``.
    """
    if old == new:
        return
    with index_lock(git):
        if checked_out_branch(git) != ref:
            raise PublishError("branch-moved", f"the site checkout left {ref} while publishing")
        move_ref(git, ref, new, old)
        real = git.git_path("index")
        with scratch_index(git, copy_of=real) as (env, copy):
            merged = git.run("read-tree", "-m", "-u", old, new, env=env, check=False)
            if merged.returncode != 0:
                move_ref(git, ref, old, new)
                raise PublishError(
                    "owner-changes",
                    "the remote's changes meet the site owner's local changes, left as they are: "
                    + (merged.stderr or merged.stdout).strip(),
                )
            os.replace(copy, real)
