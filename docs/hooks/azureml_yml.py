"""MkDocs hook: the field reference of ``azureml.yml``, generated from the pydantic models.

The page ``reference/azureml-yml.md`` holds the marker ``<!-- azureml-yml-fields -->``;
at build time it is replaced by one table per section of the file, walked from
``airflow_kedro_azureml.config.AzureMLConfig`` down through every nested model. Each
row gives the field's key, type, default, whether it is required, and its description:
``Field(description=...)`` when set, else the field's attribute docstring, else the
comment lines right above the field in the source. A field added to a model shows up
on the next build with no change here.
"""

from __future__ import annotations

import ast
import inspect
import logging
import sys
import textwrap
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARKER = "<!-- azureml-yml-fields -->"
PAGE = "reference/azureml-yml.md"
ROOT = Path(__file__).resolve().parents[2]

log = logging.getLogger("mkdocs.hooks.azureml_yml")


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """Put the generated field reference in place of the marker on the azureml.yml page."""
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        from mkdocs.exceptions import PluginError

        raise PluginError(f"{PAGE} lost its marker {MARKER}: the field reference has no place")
    return markdown.replace(MARKER, render_reference())


# -- walking the models --------------------------------------------------------------------


@dataclass
class Section:
    """One kind of mapping in azureml.yml: its model and every key path it sits at."""

    model: type
    paths: list[str]

    @property
    def path(self) -> str:
        """The shortest key path (``schedules.<name>`` before ``jobs.<name>.schedule[]``)."""
        return min(self.paths, key=lambda path: (path.count("."), len(path)))


def render_reference() -> str:
    """Markdown of every section of azureml.yml, the top level first."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from airflow_kedro_azureml.config import AzureMLConfig

    sections = sections_of(AzureMLConfig)
    undocumented = [
        join(section.path, name)
        for section in sections
        for name, info in section.model.model_fields.items()
        if not own_description(section.model, name, info)
    ]
    if undocumented:
        log.info("azureml.yml fields without a description: %s", ", ".join(undocumented))
    return "\n\n".join(render_section(section) for section in sections)


def sections_of(top: type) -> list[Section]:
    """Every model reachable from ``top``, in the order first met, with all its paths."""
    found: dict[type, Section] = {}

    def visit(model: type, path: str, stack: tuple[type, ...]) -> None:
        if model in stack:  # a model that contains itself: stop
            return
        section = found.setdefault(model, Section(model, []))
        if path not in section.paths:
            section.paths.append(path)
        for name, info in model.model_fields.items():
            for child, child_path in nested_models(info.annotation, join(path, name)):
                visit(child, child_path, (*stack, model))

    visit(top, "", ())
    return list(found.values())


def nested_models(annotation: Any, path: str) -> list[tuple[type, str]]:
    """The models inside ``annotation``, with the key path each one sits at."""
    from pydantic import BaseModel, RootModel

    found: list[tuple[type, str]] = []
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, RootModel):
        root = annotation.model_fields["root"].annotation
        return nested_models(root, path)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, path)]
    if origin is typing.Annotated:
        return nested_models(args[0], path)
    if origin is dict and len(args) == 2:
        return nested_models(args[1], f"{path}.<name>")
    if origin is list and args:
        return nested_models(args[0], f"{path}[]")
    for arg in args:  # unions
        found.extend(nested_models(arg, path))
    return found


def join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# -- one section -----------------------------------------------------------------------------


def render_section(section: Section) -> str:
    """A heading, the model's docstring and a table of its fields."""
    model = section.model
    title = f"`{section.path}`" if section.path else "Top level"
    lines = [f"### {title} {{ #{anchor(model)} }}", ""]
    doc = class_doc(model)
    if doc:
        lines += [doc, ""]
    others = [f"`{path}`" for path in section.paths if path != section.path]
    if others:
        lines += [f"Also written at {', '.join(others)}.", ""]
    lines += [
        f"Model: `{model.__module__}.{model.__qualname__}`.",
        "",
        "| Key | Type | Default | Required | Description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, info in model.model_fields.items():
        required = "yes" if info.is_required() else "no"
        description = describe(model, name, info) or "—"
        limits = constraints(info)
        if limits:
            description = f"{description} ({limits})" if description != "—" else limits
        lines.append(
            f"| `{name}` | {type_text(info.annotation)} | {default_text(info)} | {required} "
            f"| {cell(description)} |"
        )
    return "\n".join(lines)


def anchor(model: type) -> str:
    return "model-" + model.__name__.lower()


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def class_doc(model: type) -> str:
    """The first paragraph of a model's own docstring (not pydantic's), on one line."""
    doc = model.__dict__.get("__doc__")
    if not doc:
        return ""
    return " ".join(inspect.cleandoc(doc).split("\n\n")[0].split())


def describe(model: type, name: str, info: Any) -> str:
    """The field's own description, else the docstring of the model it holds."""
    own = own_description(model, name, info)
    if own:
        return own
    for holder in held_models(info.annotation):
        doc = class_doc(holder)
        if doc:
            return doc
    return ""


def held_models(annotation: Any) -> list[type]:
    """Models (root models included, not unwrapped) anywhere inside ``annotation``."""
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in held_models(arg)]


def own_description(model: type, name: str, info: Any) -> str:
    """``Field(description=...)``, the attribute docstring, or the comment above the field."""
    if info.description:
        return " ".join(info.description.split())
    for klass in model.__mro__:
        found = source_notes(klass).get(name)
        if found:
            return found
    return ""


def source_notes(klass: type) -> dict[str, str]:
    """Attribute docstrings and the comments right above each field of ``klass``."""
    try:
        source = textwrap.dedent(inspect.getsource(klass))
    except (OSError, TypeError):
        return {}
    lines = source.splitlines()
    tree = ast.parse(source)
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    notes: dict[str, str] = {}
    for index, statement in enumerate(body):
        if not isinstance(statement, ast.AnnAssign) or not isinstance(statement.target, ast.Name):
            continue
        name = statement.target.id
        following = body[index + 1] if index + 1 < len(body) else None
        if (
            isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            notes[name] = " ".join(following.value.value.split())
            continue
        comments: list[str] = []
        row = statement.lineno - 2
        while row >= 0 and lines[row].strip().startswith("#"):
            comments.insert(0, lines[row].strip().lstrip("#").strip())
            row -= 1
        if comments:
            notes[name] = " ".join(comments)
    return notes


def constraints(info: Any) -> str:
    """Bounds pydantic enforces on the field (``ge``, ``gt``, ``le``, ``lt``, lengths)."""
    words = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "min_length": "min length"}
    found = []
    for item in info.metadata:
        for attribute, symbol in words.items():
            value = getattr(item, attribute, None)
            if value is not None:
                found.append(f"{symbol} {value}")
    return ", ".join(found)


def default_text(info: Any) -> str:
    """The default as YAML would spell it; a dash for a required field."""
    from pydantic import BaseModel, RootModel

    if info.is_required():
        return "—"
    value = info.get_default(call_default_factory=True)
    if isinstance(value, RootModel):
        value = value.root
    if isinstance(value, BaseModel):
        return "see below"
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value!r}`"


def type_text(annotation: Any) -> str:
    """A short, readable spelling of a field's type; models link to their section."""
    from pydantic import BaseModel, RootModel

    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is type(None):
        return "null"
    if origin is typing.Annotated:
        return type_text(args[0])
    if origin is typing.Literal:
        return " \\| ".join(f"`{arg!r}`".replace("'", '"') for arg in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(type_text(arg) for arg in args)
    if origin is dict:
        return f"mapping of {type_text(args[0])} to {type_text(args[1])}"
    if origin is list:
        return f"list of {type_text(args[0])}"
    if isinstance(annotation, type) and issubclass(annotation, RootModel):
        return type_text(annotation.model_fields["root"].annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{anchor(annotation)})"
    names = {str: "string", int: "integer", bool: "boolean", float: "number"}
    if annotation in names:
        return names[annotation]
    if annotation is Any:
        return "any"
    return f"`{getattr(annotation, '__name__', annotation)}`"
