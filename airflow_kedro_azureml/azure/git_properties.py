"""The git properties of a job: those of the Kedro project's repository, not of the submitter.

The SDK stamps a job with the git state of the process's working directory (an
Airflow worker's, or this provider's own checkout), unless the job already carries
git properties. So every job gets the project folder's: remote URL (without any
credentials in it), branch, commit and dirty flag. A project outside any git
repository gets empty values, so the SDK adds nothing about another one.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_URL = "mlflow.source.git.repoURL"
BRANCH = "mlflow.source.git.branch"
COMMIT = "mlflow.source.git.commit"
DIRTY = "azureml.git.dirty"
_TIMEOUT = 20


def _git(folder: Path, *arguments: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", "-C", str(folder), *arguments],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def without_credentials(url: str) -> str:
    """``url`` without a user or token (``https://user:token@host/repo`` -> ``https://host/repo``)."""
    parts = urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def git_properties(folder: Path) -> dict[str, str]:
    """The job properties that describe the git state of ``folder`` (empty when unknown).

    Every key is set, even to ``""``: the SDK adds its own working directory's value for
    any key the job lacks.
    """
    if _git(folder, "rev-parse", "--is-inside-work-tree") != "true":
        return dict.fromkeys((REPO_URL, BRANCH, COMMIT, DIRTY), "")
    status = _git(folder, "status", "--porcelain", ".")
    return {
        REPO_URL: without_credentials(_git(folder, "ls-remote", "--get-url") or ""),
        BRANCH: _git(folder, "symbolic-ref", "--short", "HEAD") or "",
        COMMIT: _git(folder, "rev-parse", "HEAD") or "",
        DIRTY: "" if status is None else str(bool(status)),
    }
