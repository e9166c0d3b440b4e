"""Tests for the code snapshot: what travels to Azure ML and what stays home."""

from __future__ import annotations

from pathlib import Path

from airflow_kedro_azureml.azure.code_snapshot import build_snapshot, compute_side_modules


def make_tree(root: Path, files: list[str]) -> None:
    for relative in files:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(relative)


def test_snapshot_leaves_out_data_envs_git_and_local_conf(tmp_path: Path) -> None:
    project = tmp_path / "project"
    make_tree(
        project,
        [
            "pyproject.toml",
            "src/pkg/nodes.py",
            "src/pkg/__pycache__/nodes.cpython-311.pyc",
            "conf/base/catalog.yml",
            "conf/local/credentials.yml",
            "data/01_raw/big.csv",
            "src/pkg/data/keep_me.py",
            ".git/HEAD",
            ".venv/bin/python",
            ".azureml-local/runs/x/log.txt",
            "notebooks/scratch.ipynb",
            "reports/big.parquet",
            "reports/keep.md",
            ".amlignore",
        ],
    )
    (project / ".amlignore").write_text("notebooks/\n*.parquet\n!important.parquet\n")
    target = tmp_path / "snapshot"
    target.mkdir()
    files = set(build_snapshot(project, target))
    assert {
        "pyproject.toml",
        "src/pkg/nodes.py",
        "conf/base/catalog.yml",
        "src/pkg/data/keep_me.py",
        "reports/keep.md",
    } <= files
    for left_out in (
        "conf/local/credentials.yml",
        "data/01_raw/big.csv",
        ".git/HEAD",
        ".venv/bin/python",
        "notebooks/scratch.ipynb",
        "reports/big.parquet",
        "src/pkg/__pycache__/nodes.cpython-311.pyc",
        ".azureml-local/runs/x/log.txt",
    ):
        assert left_out not in files
        assert not (target / left_out).exists()
    # Kedro needs the folder of its default env, but none of its contents travel
    assert (target / "conf" / "local").is_dir()
    assert not (target / "conf" / "local" / "credentials.yml").exists()
    # the compute side of this package travels with the code
    for module in compute_side_modules():
        assert (target / "airflow_kedro_azureml" / module).is_file()


def test_snapshot_is_the_same_for_the_same_project(tmp_path: Path) -> None:
    project = tmp_path / "project"
    make_tree(project, ["pyproject.toml", "src/a.py", "conf/base/x.yml"])
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    assert build_snapshot(project, first) == build_snapshot(project, second)
    for path in first.rglob("*"):
        if path.is_file():
            assert (second / path.relative_to(first)).read_bytes() == path.read_bytes()


STARTER_GITIGNORE = """
# as in the spaceflights starter
conf/**/*credentials*
*.log
info.log
.ipynb_checkpoints/
"""


def test_the_projects_gitignore_is_honoured_and_amlignore_comes_last(tmp_path: Path) -> None:
    project = tmp_path / "project"
    make_tree(
        project,
        [
            "pyproject.toml",
            "src/pkg/nodes.py",
            "conf/base/credentials.yml",
            "conf/prod/my_credentials.yml",
            "conf/base/catalog.yml",
            "info.log",
            "logs/run.log",
            "keep/this.log",
        ],
    )
    (project / ".gitignore").write_text(STARTER_GITIGNORE)
    (project / ".amlignore").write_text("!keep/this.log\n")
    target = tmp_path / "snapshot"
    target.mkdir()
    files = set(build_snapshot(project, target))
    assert {"pyproject.toml", "src/pkg/nodes.py", "conf/base/catalog.yml", ".gitignore"} <= files
    assert "keep/this.log" in files
    for left_out in ("conf/base/credentials.yml", "conf/prod/my_credentials.yml", "info.log"):
        assert left_out not in files


def test_a_rewritten_log_does_not_change_the_code_hash(tmp_path: Path) -> None:
    from airflow_kedro_azureml.azure.submission import snapshot_hash

    project = tmp_path / "project"
    make_tree(project, ["pyproject.toml", "src/pkg/nodes.py", "info.log"])
    (project / ".gitignore").write_text("*.log\n")
    hashes = []
    for run in range(2):
        (project / "info.log").write_text(f"local run {run}\n")
        target = tmp_path / f"snapshot{run}"
        target.mkdir()
        build_snapshot(project, target)
        hashes.append(snapshot_hash(target))
    assert hashes[0] == hashes[1]


def test_git_properties_describe_the_project_repository(tmp_path: Path) -> None:
    import subprocess

    from airflow_kedro_azureml.azure.git_properties import git_properties, without_credentials

    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    assert set(git_properties(outside).values()) == {""}
    repo = tmp_path / "repo"
    make_tree(repo, ["pyproject.toml"])

    def git(*arguments: str) -> str:
        done = subprocess.run(
            [
                "git",
                "-C",
                str(repo),
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t.invalid",
                *arguments,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    git("init", "-q", "-b", "main")
    git("remote", "add", "origin", "https://someone:s3cret-token@dev.example.com/org/project.git")
    git("add", ".")
    git("commit", "-q", "-m", "first")
    properties = git_properties(repo)
    assert properties == {
        "mlflow.source.git.repoURL": "https://dev.example.com/org/project.git",
        "mlflow.source.git.branch": "main",
        "mlflow.source.git.commit": git("rev-parse", "HEAD"),
        "azureml.git.dirty": "False",
    }
    (repo / "new.py").write_text("x = 1\n")
    assert git_properties(repo)["azureml.git.dirty"] == "True"
    assert without_credentials("git@dev.example.com:org/p.git") == "git@dev.example.com:org/p.git"
