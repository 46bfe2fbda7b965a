"""The record of processing, read from the model's column metadata."""

from dataclasses import dataclass, field

import sqlalchemy as sa

from ..extensions import db
from ..models.privacy import PROCESSINGS, Processing


@dataclass
class ProcessingEntry:
    processing: Processing
    columns: list[str] = field(default_factory=list)  # "table.column"


@dataclass
class Record:
    entries: list[ProcessingEntry]
    other_tables: list[str]  # tables without personal data
    personal_columns: int
    other_columns: int


def unclassified_columns(metadata: sa.MetaData | None = None) -> list[str]:
    """Columns whose ``info`` does not say whether they hold personal data."""
    metadata = metadata or db.metadata
    return [f"{table.name}.{column.name}" for table in metadata.sorted_tables
            for column in table.columns if not isinstance(column.info.get("personal"), bool)]


def record_of_processing(metadata: sa.MetaData | None = None) -> Record:
    """Every kind of processing with the columns it concerns, from ``column.info``."""
    metadata = metadata or db.metadata
    by_key = {p.key: ProcessingEntry(p) for p in PROCESSINGS}
    other_tables, personal, other = [], 0, 0
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        has_personal = False
        for column in table.columns:
            if column.info.get("personal"):
                by_key[column.info["processing"]].columns.append(f"{table.name}.{column.name}")
                has_personal = True
                personal += 1
            else:
                other += 1
        if not has_personal:
            other_tables.append(table.name)
    return Record([e for e in by_key.values() if e.columns], other_tables, personal, other)
