"""Roles and scopes: everybody sees their own, anything else is a 404."""

import pytest
import sqlalchemy as sa

from mediation.extensions import db
from mediation.models import (
    Ambito,
    Assignment,
    Document,
    DocumentKind,
    MediationRequest,
    MediatorProfile,
    PupilCase,
    Role,
    School,
    SessionLog,
    Site,
    User,
)
from mediation.scoping import scoped

from tests.conftest import Auth, login


@pytest.fixture
def world(factory):
    """Two Ambiti; A has schools A1 and A2, B has B1; people and objects in each."""
    amb_a, amb_b = factory.ambito(code="A"), factory.ambito(code="B")
    a1, a2, b1 = factory.school(amb_a), factory.school(amb_a), factory.school(amb_b)
    w = {
        "amb_a": amb_a, "amb_b": amb_b, "a1": a1, "a2": a2, "b1": b1,
        "teacher_a1": factory.user(Role.teacher, school=a1),
        "lead_a1": factory.user(Role.lead, school=a1),
        "teacher_b1": factory.user(Role.teacher, school=b1),
        "coord_a": factory.user(Role.coordinator, ambito=amb_a),
        "coord_b": factory.user(Role.coordinator, ambito=amb_b),
        "admin": factory.user(Role.admin),
        "med_a": factory.mediator(ambiti=[amb_a], ambito=amb_a),
        "med_b": factory.mediator(ambiti=[amb_b], ambito=amb_b),
    }
    from mediation.models import Cycle

    for key, school in (("a1", a1), ("a2", a2), ("b1", b1)):
        case = factory.add(PupilCase(school=school, code=f"{key}-001", class_name="1A",
                                     cycle=Cycle.primaria))
        req = factory.request(school=school, pupil_case=case)
        w[f"req_{key}"] = req
        w[f"case_{key}"] = case
        w[f"doc_{key}"] = factory.add(Document(
            request=req, kind=DocumentKind.source, storage_name=f"s-{key}",
            original_name="modulo.pdf", content_type="application/pdf", size_bytes=1,
            sha256="0" * 64))
    w["asg_a1"] = factory.assignment(request=w["req_a1"], mediator=w["med_a"])
    w["asg_b1"] = factory.assignment(request=w["req_b1"], mediator=w["med_b"])
    db.session.commit()
    return w


def ids(model, user):
    return set(db.session.scalars(scoped(model, user).with_only_columns(model.id)))


def test_teacher_sees_only_their_school(world):
    """A teacher sees the requests, cases and documents of their school only."""
    t = world["teacher_a1"]
    assert ids(MediationRequest, t) == {world["req_a1"].id}
    assert ids(PupilCase, t) == {world["case_a1"].id}
    assert ids(Document, t) == {world["doc_a1"].id}
    assert ids(Assignment, t) == {world["asg_a1"].id}
    assert ids(School, t) == {world["a1"].id}
    assert ids(Site, t) == {s.id for s in world["a1"].sites}
    assert ids(Ambito, t) == {world["amb_a"].id}
    assert ids(User, t) == {t.id}
    assert ids(MediatorProfile, t) == set()


def test_lead_sees_their_school_staff(world):
    """A lead sees the users of their school, not those of others."""
    lead = world["lead_a1"]
    seen = ids(User, lead)
    assert {world["teacher_a1"].id, lead.id} <= seen
    assert world["teacher_b1"].id not in seen and world["coord_a"].id not in seen
    assert seen == {u.id for u in db.session.scalars(
        sa.select(User).where(User.school_id == world["a1"].id))}


def test_coordinator_sees_their_ambito(world):
    """A coordinator sees every school, request and mediator of their Ambito."""
    c = world["coord_a"]
    assert ids(School, c) == {world["a1"].id, world["a2"].id}
    assert ids(MediationRequest, c) == {world["req_a1"].id, world["req_a2"].id}
    assert ids(PupilCase, c) == {world["case_a1"].id, world["case_a2"].id}
    assert ids(MediatorProfile, c) == {world["med_a"].id}
    assert ids(Ambito, c) == {world["amb_a"].id}
    assert world["teacher_b1"].id not in ids(User, c)
    assert {world["teacher_a1"].id, world["lead_a1"].id, c.id} <= ids(User, c)


def test_mediator_sees_only_their_assignments(world):
    """A mediator sees their own assignments and what those concern, nothing else."""
    m = world["med_a"].user
    assert ids(Assignment, m) == {world["asg_a1"].id}
    assert ids(MediationRequest, m) == {world["req_a1"].id}
    assert ids(PupilCase, m) == {world["case_a1"].id}
    assert ids(School, m) == {world["a1"].id}
    assert ids(MediatorProfile, m) == {world["med_a"].id}
    assert ids(SessionLog, m) == set()


def test_admin_sees_everything(world):
    """The regional admin sees every Ambito."""
    assert ids(MediationRequest, world["admin"]) == {
        world["req_a1"].id, world["req_a2"].id, world["req_b1"].id}
    assert len(ids(Ambito, world["admin"])) == 2


def test_scoping_refuses_unknown_models(world):
    """A model without a rule cannot be read by accident."""
    from mediation.models import AuditEvent

    with pytest.raises(LookupError):
        scoped(AuditEvent, world["teacher_a1"])


# (who, path template, expected status) — every id-taking page for every role.
PAGES = [
    ("teacher_a1", "/schools/{a1}", 200),
    ("teacher_a1", "/schools/{a2}", 404),
    ("teacher_a1", "/schools/{b1}", 404),
    ("teacher_a1", "/ambiti/{amb_a}", 404),
    ("lead_a1", "/schools/{a1}", 200),
    ("lead_a1", "/schools/{b1}", 404),
    ("teacher_b1", "/schools/{a1}", 404),
    ("coord_a", "/schools/{a1}", 200),
    ("coord_a", "/schools/{a2}", 200),
    ("coord_a", "/schools/{b1}", 404),
    ("coord_a", "/ambiti/{amb_a}", 200),
    ("coord_a", "/ambiti/{amb_b}", 404),
    ("coord_b", "/ambiti/{amb_a}", 404),
    ("med_a", "/schools/{a1}", 200),
    ("med_a", "/schools/{b1}", 404),
    ("med_a", "/ambiti/{amb_a}", 404),
    ("admin", "/schools/{b1}", 200),
    ("admin", "/ambiti/{amb_b}", 200),
    ("admin", "/schools/999999", 404),
]


@pytest.mark.parametrize(("who", "path", "status"), PAGES)
def test_pages_are_scoped(client, world, who, path, status):
    """Each page answers 200 inside the user's scope and 404 outside it."""
    user = world[who]
    user = user.user if isinstance(user, MediatorProfile) else user
    login(client, user)
    url = path.format(**{k: v.id for k, v in world.items() if hasattr(v, "id")})
    response = client.get(url)
    assert response.status_code == status
    if status == 404:
        assert "Pagina non trovata" in response.text


def test_school_staff_is_shown_to_the_lead_only(client, world):
    """A teacher does not get the staff list of the school; the lead does."""
    auth = Auth(client)
    login(client, world["teacher_a1"])
    assert world["lead_a1"].email not in client.get(f"/schools/{world['a1'].id}").text
    auth.logout()
    login(client, world["lead_a1"])
    assert world["teacher_a1"].email in client.get(f"/schools/{world['a1'].id}").text


def test_anonymous_is_sent_to_login(client, world):
    """Every page but the public ones asks to log in first."""
    response = client.get(f"/schools/{world['a1'].id}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_every_user_is_scoped(world):
    """Each user row has exactly the scope its role requires (schema check)."""
    rows = db.session.execute(sa.select(User.role, User.school_id, User.ambito_id)).all()
    for role, school_id, ambito_id in rows:
        if role in (Role.teacher, Role.lead):
            assert school_id and not ambito_id
        elif role == Role.coordinator:
            assert ambito_id and not school_id


def test_mediator_does_not_see_another_mediators_work(client, world, factory):
    """A mediator who had the request before sees the source, not the other's translation."""
    from mediation.models import AssignmentState

    world["asg_a1"].state = AssignmentState.declined
    other = factory.mediator(ambiti=[world["amb_a"]])
    delivered = factory.add(Document(
        request=world["req_a1"], kind=DocumentKind.translation, storage_name="t-a1",
        original_name="traduzione.pdf", content_type="application/pdf", size_bytes=1,
        sha256="0" * 64, uploaded_by_id=other.user_id))
    db.session.commit()
    docs = ids(Document, world["med_a"].user)
    assert world["doc_a1"].id in docs and delivered.id not in docs
