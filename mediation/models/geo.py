"""Ambiti (territorial districts), schools and their sites (plessi)."""

import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .privacy import NOT_PERSONAL
from .types import enum_column


class Cycle(enum.StrEnum):
    """School cycles of the Italian system."""

    infanzia = "infanzia"
    primaria = "primaria"
    secondaria_1 = "secondaria_1"
    secondaria_2 = "secondaria_2"


class Ambito(db.Model):
    """A territorial district (Ambito territoriale) and its lead agency."""

    __tablename__ = "ambiti"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True, info=NOT_PERSONAL)
    name: Mapped[str] = mapped_column(sa.String(120), info=NOT_PERSONAL)
    lead_agency: Mapped[str] = mapped_column(sa.String(200), info=NOT_PERSONAL)

    schools: Mapped[list["School"]] = relationship(back_populates="ambito")

    def __repr__(self) -> str:
        return f"<Ambito {self.code}>"


class School(db.Model):
    """An autonomous school (istituto), identified by its codice meccanografico."""

    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    ambito_id: Mapped[int] = mapped_column(
        sa.ForeignKey("ambiti.id"), index=True, info=NOT_PERSONAL,
    )
    code: Mapped[str] = mapped_column(sa.String(10), unique=True, info=NOT_PERSONAL)
    name: Mapped[str] = mapped_column(sa.String(200), info=NOT_PERSONAL)
    municipality: Mapped[str] = mapped_column(sa.String(100), info=NOT_PERSONAL)
    requires_lead_approval: Mapped[bool] = mapped_column(default=False, info=NOT_PERSONAL)
    #: The school's own contact details, printed on the family letter (street and number,
    #: the switchboard's number); empty until the lead fills them in.
    address: Mapped[str | None] = mapped_column(sa.String(200), info=NOT_PERSONAL)
    telephone: Mapped[str | None] = mapped_column(sa.String(30), info=NOT_PERSONAL)

    ambito: Mapped[Ambito] = relationship(back_populates="schools")
    sites: Mapped[list["Site"]] = relationship(
        back_populates="school", order_by="Site.name", cascade="all, delete-orphan"
    )
    cycle_rows: Mapped[list["SchoolCycle"]] = relationship(cascade="all, delete-orphan")

    @property
    def cycles(self) -> list[Cycle]:
        return sorted((row.cycle for row in self.cycle_rows), key=list(Cycle).index)

    def __repr__(self) -> str:
        return f"<School {self.code}>"


class SchoolCycle(db.Model):
    """A cycle taught by a school."""

    __tablename__ = "school_cycles"

    school_id: Mapped[int] = mapped_column(
        sa.ForeignKey("schools.id"), primary_key=True, info=NOT_PERSONAL,
    )
    cycle: Mapped[Cycle] = mapped_column(
        enum_column(Cycle, "cycle"), primary_key=True, info=NOT_PERSONAL,
    )


class Site(db.Model):
    """A site (plesso) of a school, where in-person meetings happen."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    school_id: Mapped[int] = mapped_column(
        sa.ForeignKey("schools.id"), index=True, info=NOT_PERSONAL,
    )
    code: Mapped[str | None] = mapped_column(sa.String(10), info=NOT_PERSONAL)
    name: Mapped[str] = mapped_column(sa.String(200), info=NOT_PERSONAL)
    address: Mapped[str] = mapped_column(sa.String(200), info=NOT_PERSONAL)
    municipality: Mapped[str] = mapped_column(sa.String(100), info=NOT_PERSONAL)

    school: Mapped[School] = relationship(back_populates="sites")
