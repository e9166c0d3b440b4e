"""The rules of what travels in a code snapshot: gitignore syntax, folders above included."""

from __future__ import annotations

from airflow_kedro_azureml.snapshot_rules import IgnoreRules


def test_ignore_rules_follow_gitignore_syntax() -> None:
    rules = IgnoreRules(["*.log", "/build/", "docs/**/draft?.md", "!keep.log", "cache/"])
    assert rules.excludes("a/b/c.log", is_dir=False)
    assert not rules.excludes("keep.log", is_dir=False)
    assert rules.excludes("build", is_dir=True)
    assert not rules.excludes("src/build", is_dir=True)
    assert rules.excludes("docs/x/y/draft1.md", is_dir=False)
    assert not rules.excludes("docs/x/draft12.md", is_dir=False)
    assert rules.excludes("deep/cache", is_dir=True)
    assert not rules.excludes("deep/cache", is_dir=False)


def test_a_path_under_a_left_out_folder_is_left_out() -> None:
    rules = IgnoreRules(["/data/", "!data/keep.csv"])
    assert rules.excluded_with_parents("data/01_raw/x.csv", is_dir=False)
    assert rules.excluded_with_parents("data/keep.csv", is_dir=False)  # as in git
    assert not rules.excluded_with_parents("src/data/x.py", is_dir=False)
