"""What the UI shows for an asset that is a table of typed rows: its row count, its column schema
(from the pydantic model, with each field's type) and a Markdown preview of the first rows."""

import json
import types
import typing
from collections.abc import Sequence
from typing import Any

import pandas as pd
from dagster import MetadataValue, TableColumn, TableSchema
from pydantic import BaseModel

ROW_COUNT = "dagster/row_count"  # the key Dagster's UI reads a table's row count from
PREVIEW_ROWS = 5
PREVIEW_CELL = 60  # characters of a cell shown in the preview


def _type_name(annotation: Any) -> str:
    """`str`, `int | None`, `list[Pin]`: how a Python reader would write the field's type."""
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return " | ".join(_type_name(a) if a is not type(None) else "None" for a in typing.get_args(annotation))
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return "str"
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is not None:
        return f"{getattr(origin, '__name__', str(origin))}[{', '.join(_type_name(a) for a in args)}]"
    return str(annotation)


def _cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        value = json.dumps(value)
    if isinstance(value, str) and len(value) > PREVIEW_CELL:
        return value[: PREVIEW_CELL - 1] + "…"
    return value


def table_metadata(rows: Sequence[BaseModel], model: type[BaseModel]) -> dict[str, Any]:
    columns = list(model.model_fields)
    schema = TableSchema(
        columns=[
            TableColumn(name, _type_name(field.annotation), description=field.description)
            for name, field in model.model_fields.items()
        ]
    )
    head = [{k: _cell(v) for k, v in row.model_dump(mode="json").items()} for row in rows[:PREVIEW_ROWS]]
    preview = pd.DataFrame(head, columns=columns).to_markdown(index=False)
    return {
        ROW_COUNT: MetadataValue.int(len(rows)),
        "dagster/column_schema": MetadataValue.table_schema(schema),
        "preview": MetadataValue.md(preview),
    }
