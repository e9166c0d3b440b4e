"""Which project files travel in a job's code snapshot: gitignore rules, matched by pathspec.

The defaults leave out the Kedro ``data/`` folder, virtualenvs, ``.git``, caches,
local run folders and ``conf/local`` (where Kedro keeps credentials); then come the
project's ``.gitignore`` and its ``.amlignore`` (last, so its ``!`` lines can bring
back what ``.gitignore`` leaves out). The compiler asks the same rules whether a
local input travels with the code.
"""

from __future__ import annotations

from pathlib import Path

ALWAYS_EXCLUDED = (
    ".git/",
    ".venv/",
    "venv/",
    ".env/",
    "__pycache__/",
    "*.pyc",
    ".azureml-local/",
    "/data/",
    "/conf/local/*",
    "/logs/",
    "/sessions/",
    ".ipynb_checkpoints/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".mypy_cache/",
    "node_modules/",
    "mlruns/",
    ".amlignore",
)


class IgnoreRules:
    """Decides which project paths stay out of the snapshot (gitignore rules, by pathspec)."""

    def __init__(self, patterns: list[str]) -> None:
        import pathspec

        self._spec = pathspec.GitIgnoreSpec.from_lines(patterns)

    @classmethod
    def for_project(cls, code_dir: Path) -> IgnoreRules:
        """The default exclusions, then the project's ``.gitignore``, then its ``.amlignore``."""
        patterns = list(ALWAYS_EXCLUDED)
        for name in (".gitignore", ".amlignore"):
            listed = code_dir / name
            if listed.is_file():
                patterns += listed.read_text(encoding="utf-8").splitlines()
        return cls(patterns)

    def excludes(self, relative: str, is_dir: bool) -> bool:
        """True when ``relative`` (a posix path inside the project) matches a rule."""
        return bool(self._spec.match_file(relative + "/" if is_dir else relative))

    def excluded_with_parents(self, relative: str, is_dir: bool) -> bool:
        """True when ``relative``, or any folder above it, is left out (as in git)."""
        parts = relative.split("/")
        for depth in range(1, len(parts)):
            if self.excludes("/".join(parts[:depth]), is_dir=True):
                return True
        return self.excludes(relative, is_dir=is_dir)
