"""Write report tables to CSV, JSON or Excel, chosen by the output file's extension."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMATS = (".csv", ".json", ".xlsx")


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists and dicts as JSON text, for formats that hold only scalars."""
    frame = frame.copy()
    for column in frame.columns:
        if any(isinstance(v, list | dict | tuple) for v in frame[column]):
            frame[column] = frame[column].map(lambda v: json.dumps(v, ensure_ascii=False, default=str)
                                              if isinstance(v, list | dict | tuple) else v)
    return frame


def _excel_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Control characters a worksheet cannot hold (openpyxl refuses them: text stored from a client may carry
    them) become U+FFFD, so the cell shows something was there."""
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].map(lambda v: ILLEGAL_CHARACTERS_RE.sub("\ufffd", v) if isinstance(v, str)
                                              else v)
    return frame


def write_tables(tables: dict[str, pd.DataFrame], path: str | Path) -> list[Path]:
    """Write ``tables`` to ``path``: one sheet each in .xlsx, one object each in .json, and for .csv the
    first table at ``path`` and the others next to it as ``<stem>.<name>.csv``. Returns the files written."""
    path = Path(path)
    if path.suffix not in FORMATS:
        raise ValueError(f"unsupported output {path.name!r}: use one of {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".xlsx":
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for name, frame in tables.items():
                if len(frame.columns):
                    _excel_safe(_flat(frame)).to_excel(writer, sheet_name=name[:31], index=False)
                else:  # pandas writes no sheet for a frame without columns, and a workbook needs one
                    writer.book.create_sheet(name[:31])
        return [path]
    if path.suffix == ".json":
        payload = {name: json.loads(frame.to_json(orient="records", date_format="iso", force_ascii=False))
                   for name, frame in tables.items()}
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        return [path]
    written = []
    for index, (name, frame) in enumerate(tables.items()):
        target = path if index == 0 else path.with_name(f"{path.stem}.{name}.csv")
        _flat(frame).to_csv(target, index=False)
        written.append(target)
    return written
