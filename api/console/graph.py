"""A flow's steps laid out as a graph: trigger steps first, then ``dependsOn`` arrows.

Pure layout (no HTML): the flow page draws the boxes and arrows as SVG from it.
A step sits one column right of the deepest step it depends on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flyte.flow import Step

NODE_WIDTH = 210
NODE_HEIGHT = 54
COLUMN_GAP = 70
ROW_GAP = 22
MARGIN = 12
#: Longest step id drawn whole inside a box; longer ones are cut with "…".
MAX_LABEL_CHARS = 26


@dataclass(frozen=True)
class Node:
    """A step's box: where it is drawn and what it says."""

    step_id: str
    label: str
    sublabel: str
    x: int
    y: int
    is_trigger: bool


@dataclass(frozen=True)
class Edge:
    """An arrow from a step to one that depends on it, as an SVG path."""

    source: str
    target: str
    path: str


@dataclass(frozen=True)
class Graph:
    """The laid-out flow and the size of the drawing."""

    nodes: list[Node]
    edges: list[Edge]
    width: int
    height: int


def layout(steps: Sequence[Step]) -> Graph:
    """Place each step in the column of its depth, in the flow's order."""
    depths = _depths(steps)
    rows: dict[int, int] = {}
    nodes: dict[str, Node] = {}
    for step in steps:
        column = depths[step.id]
        row = rows.get(column, 0)
        rows[column] = row + 1
        nodes[step.id] = Node(
            step_id=step.id,
            label=_cut(step.id),
            sublabel=_cut(f"{step.command.pack_name}: {step.command.name}"),
            x=MARGIN + column * (NODE_WIDTH + COLUMN_GAP),
            y=MARGIN + row * (NODE_HEIGHT + ROW_GAP),
            is_trigger=step.is_trigger,
        )
    edges = [
        Edge(source, step.id, _arrow(nodes[source], nodes[step.id]))
        for step in steps
        for source in step.depends_on
        if source in nodes
    ]
    columns = max(depths.values(), default=0) + 1
    most_rows = max(rows.values(), default=1)
    return Graph(
        nodes=list(nodes.values()),
        edges=edges,
        width=2 * MARGIN + columns * NODE_WIDTH + (columns - 1) * COLUMN_GAP,
        height=2 * MARGIN + most_rows * NODE_HEIGHT + (most_rows - 1) * ROW_GAP,
    )


def _depths(steps: Sequence[Step]) -> dict[str, int]:
    """Each step's column: 0 for triggers, else 1 + the deepest dependency.

    Flows are validated acyclic; a cycle or unknown id (an old stored version)
    still gets a finite depth because the walk stops at steps being visited.
    """
    by_id = {step.id: step for step in steps}
    depths: dict[str, int] = {}
    visiting: set[str] = set()

    def depth(step_id: str) -> int:
        if step_id in depths:
            return depths[step_id]
        if step_id in visiting or step_id not in by_id:
            return -1
        visiting.add(step_id)
        parents = [depth(parent) for parent in by_id[step_id].depends_on]
        visiting.discard(step_id)
        depths[step_id] = 1 + max(parents, default=-1)
        return depths[step_id]

    for step in steps:
        depth(step.id)
    return depths


def _arrow(source: Node, target: Node) -> str:
    """A curve from the right edge of ``source`` to the left edge of ``target``."""
    x1, y1 = source.x + NODE_WIDTH, source.y + NODE_HEIGHT // 2
    x2, y2 = target.x - 6, target.y + NODE_HEIGHT // 2
    bend = max(20, (x2 - x1) // 2)
    return f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"


def _cut(text: str) -> str:
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"
