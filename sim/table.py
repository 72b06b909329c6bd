"""A report's table, as every report of the twin hands it to its CSV and HTML writers: the column
names, then one tuple of values per row, in the columns' order."""

from __future__ import annotations

from typing import Any

Row = tuple[Any, ...]
Table = tuple[list[str], list[Row]]
