"""Cut a Kedro pipeline's nodes into steps: one per node, per namespace, or joined by memory.

Grouping trades step overhead for parallelism. Whatever the strategy, nodes on
different computes never share a step, and groups that would depend on each
other in a loop are merged, so the steps always form a DAG. Every function here
is linear in nodes plus edges.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from airflow_kedro_azureml.errors import CompileError


@dataclass(frozen=True)
class NodeView:
    """What grouping needs of a node: position, name, namespace, compute and edges."""

    index: int
    name: str
    namespace: str | None
    compute: str
    upstream: tuple[int, ...]
    memory_upstream: tuple[int, ...]


def group_nodes(nodes: Sequence[NodeView], strategy: str) -> list[list[int]]:
    """Return groups of node indices, each sorted, the groups in dependency order."""
    parent = list(range(len(nodes)))

    def find(item: int) -> int:
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(left: int, right: int) -> None:
        root_left, root_right = find(left), find(right)
        if root_left != root_right:
            parent[max(root_left, root_right)] = min(root_left, root_right)

    if strategy == "namespace":
        first_of: dict[tuple[str, str], int] = {}
        for node in nodes:
            if node.namespace:
                key = (node.namespace.split(".", 1)[0], node.compute)
                union(first_of.setdefault(key, node.index), node.index)
    elif strategy == "memory":
        for node in nodes:
            for producer in node.memory_upstream:
                if nodes[producer].compute == node.compute:
                    union(producer, node.index)
    elif strategy != "none":
        raise CompileError(
            f"node_grouping {strategy!r} is not known; use 'none', 'namespace' or 'memory'"
        )

    group_of = [find(node.index) for node in nodes]
    group_of = _merge_cycles(nodes, group_of)
    members: dict[int, list[int]] = {}
    for node in nodes:
        members.setdefault(group_of[node.index], []).append(node.index)
    for group, indices in members.items():
        computes = {nodes[i].compute for i in indices}
        if len(computes) > 1:
            names = [nodes[i].name for i in indices]
            raise CompileError(
                f"nodes {names} must run in one step (they depend on each other through the "
                f"grouping) but are tagged for different computes {sorted(computes)}; "
                "tag them alike or use node_grouping 'none'"
            )
        members[group] = sorted(indices)
    order = _topological_groups(nodes, group_of, members)
    return [members[group] for group in order]


def _group_edges(nodes: Sequence[NodeView], group_of: list[int]) -> dict[int, set[int]]:
    edges: dict[int, set[int]] = {group: set() for group in set(group_of)}
    for node in nodes:
        own = group_of[node.index]
        for producer in node.upstream:
            other = group_of[producer]
            if other != own:
                edges[other].add(own)
    return edges


def _merge_cycles(nodes: Sequence[NodeView], group_of: list[int]) -> list[int]:
    """Merge groups that lie on a common cycle (strongly connected components)."""
    edges = _group_edges(nodes, group_of)
    component = _strongly_connected(edges)
    return [component[group] for group in group_of]


def _strongly_connected(edges: dict[int, set[int]]) -> dict[int, int]:
    """Map each vertex to the smallest vertex of its strongly connected component."""
    index_of: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    result: dict[int, int] = {}
    counter = 0
    for start in sorted(edges):
        if start in index_of:
            continue
        work: list[tuple[int, list[int]]] = [(start, sorted(edges[start]))]
        index_of[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            vertex, children = work[-1]
            if children:
                child = children.pop()
                if child not in index_of:
                    index_of[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, sorted(edges[child])))
                elif child in on_stack:
                    low[vertex] = min(low[vertex], index_of[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[vertex])
            if low[vertex] == index_of[vertex]:
                component: list[int] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == vertex:
                        break
                root = min(component)
                for member in component:
                    result[member] = root
    return result


def _topological_groups(
    nodes: Sequence[NodeView], group_of: list[int], members: dict[int, list[int]]
) -> list[int]:
    """Order groups so producers come first; ties go to the group with the earliest node."""
    edges = _group_edges(nodes, group_of)
    incoming = {group: 0 for group in members}
    for targets in edges.values():
        for target in targets:
            incoming[target] += 1
    first_node: Callable[[int], int] = lambda group: members[group][0]  # noqa: E731
    ready = [(first_node(group), group) for group, count in incoming.items() if count == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        _, group = heapq.heappop(ready)
        order.append(group)
        for target in edges[group]:
            incoming[target] -= 1
            if incoming[target] == 0:
                heapq.heappush(ready, (first_node(target), target))
    if len(order) != len(members):
        raise CompileError("internal error: step groups still form a loop after merging")
    return order
