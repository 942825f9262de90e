"""An acyclic dependency graph from table edges that may have cycles: plain Python.

Dagster's asset graph must be acyclic, and Athena history is not (``INSERT INTO t SELECT ...
FROM t``, two tables loaded from each other). Edges come in priority order; an edge is kept
unless it closes a cycle among those already kept, and the edges left out are reported so
nothing disappears silently.

>>> deps, cyclic = acyclic_deps([("a", "b"), ("b", "c"), ("c", "a")])
>>> sorted(deps["b"]), sorted(deps["c"]), sorted(cyclic["a"])
(['a'], ['b'], ['c'])
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

Edge = tuple[str, str]  # (upstream, downstream)


def acyclic_deps(edges: Iterable[Edge]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Upstreams per node that keep the graph acyclic, and the upstreams left out to keep it so.

    Only edges inside one strongly connected component can close a cycle, so the reachability
    search stays within (small) components."""
    edges = list(edges)
    component = strongly_connected_components({node for edge in edges for node in edge}, edges)
    deps: dict[str, set[str]] = defaultdict(set)
    dropped: dict[str, set[str]] = defaultdict(set)
    downstream: dict[str, set[str]] = defaultdict(set)  # kept edges inside components
    for source, target in edges:
        if component[source] == component[target]:
            if source == target or _reaches(downstream, target, source):
                dropped[target].add(source)
                continue
            downstream[source].add(target)
        deps[target].add(source)
    return deps, dropped


def _reaches(graph: Mapping[str, set[str]], start: str, goal: str) -> bool:
    seen, stack = {start}, [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for nxt in graph.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def strongly_connected_components(nodes: set[str], edges: list[Edge]) -> dict[str, int]:
    """The strongly connected component of each node (Tarjan's algorithm, iterative, so deep
    chains never hit the recursion limit)."""
    graph: dict[str, list[str]] = defaultdict(list)
    for source, target in edges:
        graph[source].append(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    component: dict[str, int] = {}
    stack: list[str] = []
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    while True:
                        member = stack.pop()
                        component[member] = index[node]
                        if member == node:
                            break
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                work.append((child, iter(graph[child])))
            elif child not in component:  # on the stack
                low[node] = min(low[node], index[child])
    return component
