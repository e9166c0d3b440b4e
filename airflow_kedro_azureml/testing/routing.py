"""A small regex router mapping (method, path) to route handlers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from airflow_kedro_azureml.testing.http_messages import ApiRequest, ApiResponse

RouteHandler = Callable[[ApiRequest], ApiResponse]

# ``{WS}`` in a route pattern stands for the ARM path of a workspace.
WORKSPACE_PATTERN = (
    r"/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<resource_group>[^/]+)"
    r"/providers/Microsoft\.MachineLearningServices/workspaces/(?P<workspace>[^/]+)"
)
# ``{NAME}`` matches one path segment.
NAME_PATTERN = r"[^/]+"


@dataclass(frozen=True)
class Route:
    """One (method, compiled path pattern) -> handler entry."""

    method: str
    pattern: re.Pattern[str]
    handler: RouteHandler


class Router:
    """Holds routes in registration order; the first full match wins."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: RouteHandler) -> None:
        """Register ``handler`` for ``method`` on paths fully matching ``pattern``.

        ``pattern`` is a regular expression with named groups; ``{WS}`` expands to the
        workspace ARM path. Matching ignores the case of the fixed parts, as ARM does.
        """
        expanded = pattern.replace("{WS}", WORKSPACE_PATTERN)
        self._routes.append(
            Route(method.upper(), re.compile(expanded + r"/?", re.IGNORECASE), handler)
        )

    def resolve(self, method: str, path: str) -> tuple[RouteHandler, dict[str, str]] | None:
        """The handler and path parameters for a request, or ``None`` when no route matches."""
        for route in self._routes:
            if route.method != method.upper():
                continue
            match = route.pattern.fullmatch(path)
            if match:
                return route.handler, {k: v for k, v in match.groupdict().items() if v is not None}
        return None

    def allows_path(self, path: str) -> bool:
        """Whether any method has a route for ``path`` (to tell 405 from 404)."""
        return any(route.pattern.fullmatch(path) for route in self._routes)
