"""Two Ambiti, two schools each, with every kind of object: for the scope and privacy walks.

Ambito A has schools A1 and A2, Ambito B has B1 and B2. Each school has a teacher, a lead,
a pupil case (with a distinctive country and risk indicators), a request for that pupil
handled by the school's own mediator (med_A1 serves A1, med_A2 serves A2, both of Ambito A),
its accepted assignment, a submitted session log, a source document on disk, an absence of
the mediator and an email to the teacher. Each Ambito has a coordinator; there is one admin.

``world.unit(name)`` gives the ids of one school's objects by URL parameter name, so a URL
rule can be filled with the ids of any school's objects.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from flask import current_app

from mediation.extensions import db
from mediation.models import (
    Absence,
    Action,
    Assignment,
    AssignmentState,
    BroadcastInvitation,
    BroadcastState,
    Document,
    DocumentKind,
    InvitationState,
    ItalianLevel,
    LogState,
    MacroAction,
    MediatorProfile,
    OfferBroadcast,
    OutboxMessage,
    Outcome,
    PupilCase,
    ReportingPeriod,
    RequestSeries,
    RequestState,
    Role,
    SessionLog,
    User,
)
from mediation.models.geo import Cycle

#: A country of origin no page would print by accident (Tuvalu), and how it may be shown.
SECRET_COUNTRY = "TV"
SECRET_COUNTRY_SHOWN = ("Tuvalu",)

#: URL parameters that are not object ids (they are checked elsewhere or name no row).
NOT_OBJECT_IDS = {"token", "type_code", "kind", "fmt", "filename",
                  "name"}  # a period's stored file, by its name in that period

#: URL parameters naming an object of a whole Ambito (the same for both its schools).
AMBITO_LEVEL = {"ambito_id", "period_id"}

SCHOOLS = ("A1", "A2", "B1", "B2")


@dataclass
class World:
    objects: dict = field(default_factory=dict)

    def __getitem__(self, key):
        return self.objects[key]

    def unit(self, school: str) -> dict[str, int]:
        """The ids of a school's objects, keyed by the URL parameter that names them."""
        o = self.objects
        return {
            "school_id": o[f"school_{school}"].id,
            "ambito_id": o[f"school_{school}"].ambito_id,
            "case_id": o[f"case_{school}"].id,
            "request_id": o[f"req_{school}"].id,
            "series_id": o[f"req_{school}"].series_id,
            "week_id": o[f"req_{school}"].id,
            "assignment_id": o[f"asg_{school}"].id,
            "log_id": o[f"log_{school}"].id,
            "document_id": o[f"doc_{school}"].id,
            "mediator_id": o[f"med_{school}"].id,
            "absence_id": o[f"abs_{school}"].id,
            "message_id": o[f"msg_{school}"].id,
            "period_id": o[f"period_{school[0]}"].id,
            "invitation_id": o[f"inv_{school}"].id,
        }

    def user(self, key: str) -> User:
        obj = self.objects[key]
        return obj.user if isinstance(obj, MediatorProfile) else obj


def build_world(factory) -> World:
    w = World()
    o = w.objects
    project = factory.project(start_date=datetime(2024, 1, 1).date(),
                              end_date=datetime(2030, 6, 30).date())
    macro = factory.add(MacroAction(project=project, number=1, title_it="Macro 1",
                                    title_en="Macro 1"))
    factory.add(Action(macro_action=macro, code="1.1", title_it="A", title_en="A"))
    meeting = factory.request_type(code="family_meeting", concerns_pupil=True)
    language = factory.language("ar", name_it="Arabo", name_en="Arabic")
    o["admin"] = factory.user(Role.admin, email="admin@example.org")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    for side in "AB":
        ambito = factory.ambito(code=f"AMB{side}", name=f"Ambito {side}")
        o[f"amb_{side}"] = ambito
        o[f"coord_{side}"] = factory.user(Role.coordinator, ambito=ambito,
                                          email=f"coord.{side.lower()}@example.org")
        # A reporting period the Ambito's coordinator closed.
        o[f"period_{side}"] = factory.add(ReportingPeriod(
            ambito=ambito, start_date=date(2025, 1, 1), end_date=date(2025, 3, 31),
            closed_by=o[f"coord_{side}"]))
        for number in "12":
            name = f"{side}{number}"
            school = factory.school(ambito, name=f"Scuola {name}")
            o[f"school_{name}"] = school
            teacher = factory.user(Role.teacher, school=school,
                                   email=f"teacher.{name.lower()}@example.org")
            o[f"teacher_{name}"] = teacher
            o[f"lead_{name}"] = factory.user(Role.lead, school=school,
                                             email=f"lead.{name.lower()}@example.org")
            mediator = factory.mediator(ambiti=[ambito], ambito=ambito,
                                        email=f"med.{name.lower()}@example.org")
            o[f"med_{name}"] = mediator
            case = factory.add(PupilCase(
                school=school, code=f"{name}-PUP", class_name="2B", cycle=Cycle.primaria,
                arrival_year=2023, country_of_origin=SECRET_COUNTRY, high_absences=True,
                repeated_year=True, late_enrolment=True, italian_level=ItalianLevel.a0))
            case.home_languages.append(language)
            o[f"case_{name}"] = case
            # Each school's request starts at another hour: a mediator's work never overlaps.
            begin = start + timedelta(hours=SCHOOLS.index(name))
            req = factory.request(school=school, project=project, requester=teacher,
                                  type=meeting, language=language, pupil_case=case,
                                  state=RequestState.logged, notes=f"note {name}")
            o[f"req_{name}"] = req
            # Its request is week 1 of a weekly series (the series' page and its actions).
            req.series = factory.add(RequestSeries(weeks=2))
            req.series_position = 1
            asg = factory.add(Assignment(request=req, mediator=mediator,
                                         state=AssignmentState.accepted, start_dt=begin,
                                         end_dt=begin + timedelta(hours=1)))
            o[f"asg_{name}"] = asg
            # The request had been offered to several mediators: this one took it.
            broadcast = factory.add(OfferBroadcast(
                request=req, start_dt=begin, end_dt=begin + timedelta(hours=1),
                created_by=o[f"coord_{side}"], state=BroadcastState.taken))
            o[f"inv_{name}"] = factory.add(BroadcastInvitation(
                broadcast=broadcast, mediator=mediator, state=InvitationState.accepted,
                sent_dt=begin - timedelta(days=2)))
            o[f"log_{name}"] = factory.add(SessionLog(
                assignment=asg, actual_start_dt=begin, actual_end_dt=begin + timedelta(hours=1),
                parents_met=2, outcome=Outcome.held, macro_action=macro,
                state=LogState.submitted, summary=f"summary {name}"))
            storage = f"storage{name.lower()}"
            folder = Path(current_app.config["UPLOAD_FOLDER"])
            folder.mkdir(parents=True, exist_ok=True)
            (folder / storage).write_bytes(b"hello")
            o[f"doc_{name}"] = factory.add(Document(
                request=req, kind=DocumentKind.source, storage_name=storage,
                original_name=f"modulo-{name}.txt", content_type="text/plain", size_bytes=5,
                sha256="0" * 64, uploaded_by_id=teacher.id))
            o[f"abs_{name}"] = factory.add(Absence(
                mediator=mediator, start_dt=start + timedelta(days=30),
                end_dt=start + timedelta(days=31), reason="ferie"))
            o[f"msg_{name}"] = factory.add(OutboxMessage(
                message_id=f"<{name}@example.org>", template="test", recipient_id=teacher.id,
                recipient_email=teacher.email, locale="it", subject="Oggetto",
                body_text="Testo"))
    db.session.commit()
    return w
