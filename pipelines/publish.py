"""Handing written files to the static-site git repo: one commit per run, pushed safely.

The run commits whatever changed under the article folders (also files an
interrupted earlier run left uncommitted), with a message listing the articles,
and pushes. When the remote moved meanwhile (another job pushed), the push is
rejected: the commit is rebased onto the remote and pushed again, with
exponential backoff (tenacity). A local commit that could not be pushed is pushed
by the next run. Nothing changed → no commit, no push. A git lock file left by a
process killed mid-command is cleared once it is old enough to be certainly stale.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

logger = logging.getLogger(__name__)

#: temporary files of ``pipelines.write.write_atomic`` that a killed run may leave
TEMP_FILES = ":(exclude,glob)**/.*.tmp"


class PublishError(Exception):
    """The files could not be committed or pushed; the message says which step and why."""


class PushRejected(Exception):
    """A push the remote refused (it moved) or could not take; worth another attempt."""


@dataclass(frozen=True)
class PublishConfig:
    repo: Path
    #: folder(s) in the repo the run owns, relative to its root
    paths: Sequence[str] = ("content",)
    remote: str = "origin"  #: "" to commit without pushing
    branch: str = ""  #: "" = the checked-out branch
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

    status: str  #: "new" or "updated"
    path: str
    title: str
    url: str


class Git:
    def __init__(self, repo: Path, author: str):
        self.repo = repo
        name, email = parseaddr(author)
        self.env = os.environ | {
            "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
            "GIT_TERMINAL_PROMPT": "0",
        }

    def run(self, *args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["git", "-C", str(self.repo), *args], input=stdin, capture_output=True, text=True, env=self.env
        )
        if check and proc.returncode != 0:
            raise PublishError(f"git {' '.join(args)} failed: {(proc.stderr or proc.stdout).strip()}")
        return proc

    def out(self, *args: str) -> str:
        return self.run(*args).stdout.strip()


def commit_message(changes: Sequence[Change], staged: Sequence[str]) -> str:
    """Subject with the counts, then one line per article (and per file an earlier run left)."""
    known = {change.path for change in changes}
    left = [path for path in staged if path not in known]
    new = sum(change.status == "new" for change in changes)
    subject = f"news-ingest: {new} new, {len(changes) - new} updated article(s)"
    if left:
        subject += f", {len(left)} file(s) left by an earlier run"
    lines = [f"{change.status}: {change.path} {change.title} <{change.url}>" for change in changes if change.path in staged]
    lines += [f"left by an earlier run: {path}" for path in left]
    return subject + "\n\n" + "\n".join(lines) + "\n"


def clear_stale_lock(git: Git, older_than: float) -> None:
    """Remove ``index.lock`` when no live git can own it any more (git holds it for moments)."""
    lock = git.repo / git.out("rev-parse", "--git-path", "index.lock")
    try:
        age = time.time() - lock.stat().st_mtime
    except FileNotFoundError:
        return
    if age > older_than:
        logger.warning("Removing %s, left %.0f s ago by a git that did not finish", lock, age)
        lock.unlink(missing_ok=True)


def publish(config: PublishConfig, changes: Sequence[Change]) -> PublishResult:
    """Commit what changed under ``config.paths`` and push it; raises PublishError."""
    git = Git(config.repo, config.author)
    clear_stale_lock(git, config.stale_lock)
    branch = config.branch or git.out("symbolic-ref", "--short", "HEAD")
    git.run("add", "--all", "--", *config.paths, TEMP_FILES)
    staged = git.out("diff", "--cached", "--name-only", "--", *config.paths).splitlines()
    if staged:
        git.run("commit", "--quiet", "--file", "-", stdin=commit_message(changes, staged))
        logger.info("Committed %d file(s) to %s", len(staged), config.repo)
    if not config.remote:
        return PublishResult("committed" if staged else "nothing", git.out("rev-parse", "HEAD") if staged else "")
    if not staged and not ahead_of_remote(git, config.remote, branch):
        return PublishResult("nothing")
    attempts = push_with_retries(git, config, branch)
    return PublishResult("pushed", git.out("rev-parse", "HEAD"), attempts)


def ahead_of_remote(git: Git, remote: str, branch: str) -> bool:
    """Whether the branch holds commits the remote has not seen (e.g. an earlier push that failed)."""
    tracking = f"refs/remotes/{remote}/{branch}"
    if git.run("rev-parse", "--verify", "--quiet", tracking, check=False).returncode != 0:
        return True
    return git.out("rev-list", "--count", f"{tracking}..HEAD") != "0"


def push_with_retries(git: Git, config: PublishConfig, branch: str) -> int:
    """Push; on refusal fetch, rebase onto the remote and try again. Returns the attempts used."""
    attempt = 0
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
                push_once(git, config.remote, branch)
    except PushRejected as exc:
        raise PublishError(f"push to {config.remote}/{branch} still refused after {attempt} attempt(s): {exc}") from None
    return attempt


def push_once(git: Git, remote: str, branch: str) -> None:
    pushed = git.run("push", "--porcelain", remote, f"HEAD:refs/heads/{branch}", check=False)
    if pushed.returncode == 0:
        return
    refusal = (pushed.stderr or pushed.stdout).strip()
    logger.warning("Push to %s/%s refused, rebasing onto it: %s", remote, branch, refusal.splitlines()[-1:] or "")
    fetched = git.run("fetch", "--quiet", remote, branch, check=False)
    if fetched.returncode != 0:
        raise PushRejected(f"{refusal}; fetch failed too: {fetched.stderr.strip()}")
    rebased = git.run("rebase", "--quiet", "--autostash", "FETCH_HEAD", check=False)
    if rebased.returncode != 0:
        git.run("rebase", "--abort", check=False)
        raise PublishError(f"rebase onto {remote}/{branch} failed (conflict?): {(rebased.stderr or rebased.stdout).strip()}")
    raise PushRejected(refusal)
