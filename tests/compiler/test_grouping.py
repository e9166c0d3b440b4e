"""Tests for node grouping: strategies, computes, and loops merged into one step."""

from __future__ import annotations

import pytest

from airflow_kedro_azureml.compiler.grouping import NodeView, group_nodes
from airflow_kedro_azureml.errors import CompileError


def view(index: int, upstream=(), memory=(), namespace=None, compute="__default__") -> NodeView:
    return NodeView(index, f"n{index}", namespace, compute, tuple(upstream), tuple(memory))


def test_none_gives_a_step_per_node_in_dependency_order() -> None:
    nodes = [view(0), view(1, [0]), view(2, [0])]
    assert group_nodes(nodes, "none") == [[0], [1], [2]]


def test_namespace_groups_by_top_level_namespace() -> None:
    nodes = [view(0, namespace="a.x"), view(1, [0], namespace="a.y"), view(2, [1], namespace="b")]
    assert group_nodes(nodes, "namespace") == [[0, 1], [2]]


def test_memory_grouping_skips_other_computes() -> None:
    nodes = [view(0), view(1, [0], [0]), view(2, [1], [1], compute="gpu")]
    assert group_nodes(nodes, "memory") == [[0, 1], [2]]


def test_groups_that_would_loop_are_merged() -> None:
    # 0 -mem-> 2, and 0 -> 1 -> 2 through a file: grouping {0, 2} would loop with 1.
    nodes = [view(0), view(1, [0]), view(2, [0, 1], [0])]
    assert group_nodes(nodes, "memory") == [[0, 1, 2]]


def test_loop_across_computes_is_an_error() -> None:
    nodes = [view(0), view(1, [0], compute="gpu"), view(2, [0, 1], [0])]
    with pytest.raises(CompileError, match="different computes"):
        group_nodes(nodes, "memory")


def test_unknown_strategy() -> None:
    with pytest.raises(CompileError, match="node_grouping 'tags'"):
        group_nodes([view(0)], "tags")


def test_large_chain_is_fast_enough_to_be_linear() -> None:
    nodes = [view(0)] + [view(i, [i - 1], [i - 1]) for i in range(1, 5000)]
    groups = group_nodes(nodes, "memory")
    assert groups == [list(range(5000))]
