"""Schools' requests: the list, the form per request type, the request page and its actions."""

from contextlib import suppress
from datetime import datetime, timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale, pgettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..bookings import operations, policy
from ..bookings import queries as booking_queries
from ..bookings.operations import (
    RequestInput,
    SlotInput,
)
from ..bounds import page_arg
from ..cases.views import CASE_READERS
from ..clock import in_rome, to_utc
from ..coordination import queries as coordination_queries
from ..documents import InvalidUpload, document_path, store_upload
from ..errors import InvalidInput
from ..extensions import db
from ..i18n import format_datetime, format_time
from ..labels import (
    CANCELLATION_REASON_LABELS,
    DOCUMENT_KIND_LABELS,
    EVENT_LABELS,
    OUTCOME_LABELS,
    cycle_label,
    request_state_label,
)
from ..models import (
    AssignmentState,
    Cycle,
    Direction,
    DocumentKind,
    Language,
    MediationRequest,
    Mode,
    Outcome,
    RequestKind,
    RequestState,
    RequestType,
    Role,
    Urgency,
    User,
    utcnow,
)
from ..scoping import roles_required
from ..view_helpers import show_error
from . import queries
from .forms import (
    DURATIONS,
    NEW_CASE,
    CancelForm,
    DisputeForm,
    FeedbackForm,
    FilterForm,
    MeetingForm,
    NoShowForm,
    RejectForm,
    TranslationForm,
    chosen,
    options,
)

bp = Blueprint("requests", __name__, url_prefix="/requests")

SCHOOL_ROLES = (Role.teacher, Role.lead)

ASSIGNMENT_BADGES = {
    AssignmentState.offered: "info",
    AssignmentState.accepted: "success",
    AssignmentState.declined: "warning",
    AssignmentState.cancelled: "danger",
    AssignmentState.superseded: "secondary",
}


@bp.context_processor
def labels():
    return {
        "ASSIGNMENT_BADGES": ASSIGNMENT_BADGES,
        "RequestKind": RequestKind,
        "RequestState": RequestState,
        "Role": Role,
        "Mode": Mode,
        "Urgency": Urgency,
        "time_of": lambda value: format_time(value, "short") if value else "",
    }


def _user() -> User:
    return current_user._get_current_object()


def _locale() -> str:
    return str(get_locale())


# --- the list ----------------------------------------------------------------


@bp.route("")
@roles_required(*SCHOOL_ROLES)
def index():
    """My school's requests, filtered, newest first."""
    user = _user()
    locale = _locale()
    form = FilterForm(formdata=request.args)
    form.state.choices = options(
        [("", _("All"))] + [(state.value, request_state_label(state)) for state in RequestState]
    )
    form.type.choices = options(
        [("", _("All types"))] + [(str(t.id), t.name(locale)) for t in queries.all_types()]
    )
    form.language.choices = options(
        [("", _("All languages"))]
        + [(str(value), label) for value, label in queries.language_choices(locale)]
    )
    form.validate()
    filters = queries.Filters(
        state=RequestState(chosen(form.state)) if chosen(form.state) else None,
        type_id=int(chosen(form.type)) if chosen(form.type) else None,
        language_id=int(chosen(form.language)) if chosen(form.language) else None,
        date_from=None if form.date_from.errors else form.date_from.data,
        date_to=None if form.date_to.errors else form.date_to.data,
        mine=bool(form.mine.data),
    )
    pagination = db.paginate(
        queries.school_requests(user, filters),
        page=page_arg(),
        per_page=current_app.config["PER_PAGE"],
        error_out=False,
    )
    awaiting = queries.awaiting_approval(user) if user.role == Role.lead else []
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "requests/index.html", form=form, pagination=pagination, awaiting=awaiting,
        page_args=args, filtered=bool(args),
    )


# --- filing a request --------------------------------------------------------


@bp.route("/new")
@roles_required(*SCHOOL_ROLES)
def choose_type():
    return render_template("requests/choose_type.html", types=queries.active_types())


def _fill_choices(form, user: User, rtype: RequestType, locale: str) -> dict:
    """Set the select options from the database; returns the school's pupil cases by id."""
    languages = queries.language_choices(locale)
    form.language.choices = options([("", _("Choose a language")), *languages])
    cases = {}
    if rtype.concerns_pupil:
        cases = {case.id: case for case in queries.pupil_cases(user)}
        form.pupil_case.choices = options(
            [("", _("Choose the pupil"))]
            + [(str(c.id), _("%(code)s (class %(class_name)s)", code=c.code,
                             class_name=c.class_name)) for c in cases.values()]
            + [(NEW_CASE, _("A pupil without a code yet: add a new code"))]
        )
        cycles = user.school.cycles or list(Cycle)
        form.case_cycle.choices = options(
            [("", _("Choose"))] + [(c.value, cycle_label(c)) for c in cycles]
        )
        form.case_home_language.choices = options(
            [(0, _("The language of this request")), *languages]
        )
    if isinstance(form, MeetingForm):
        form.site.choices = options(
            [("", _("Choose a site"))]
            + [(site.id, f"{site.name} – {site.address}, {site.municipality}")
               for site in user.school.sites]
        )
        durations = sorted({*DURATIONS, *([rtype.default_duration_minutes]
                                          if rtype.default_duration_minutes else [])})
        form.duration.choices = options(
            (minutes, _("%(minutes)d minutes", minutes=minutes)) for minutes in durations
        )
    return cases


def _pupil_case(form, user: User, cases: dict):
    if not form.concerns_pupil:
        return None
    if form.pupil_case.data != NEW_CASE:
        return cases[int(form.pupil_case.data)]
    home = db.session.get(Language, form.case_home_language.data or form.language.data)
    return operations.create_pupil_case(
        user,
        code=form.case_code.data,
        family_code=form.case_family_code.data,
        class_name=form.case_class.data,
        cycle=Cycle(form.case_cycle.data),
        arrival_year=form.case_arrival_year.data,
        home_languages=[home] if home else [],
    )


def _submit(form, user: User, rtype: RequestType, cases: dict) -> MediationRequest:
    """Create the request (and its pupil case and documents) from a valid form."""
    case = _pupil_case(form, user, cases)
    data = RequestInput(
        type=rtype,
        language_id=form.language.data,
        pupil_case=case,
        urgency=Urgency(form.urgency.data),
        notes=form.notes.data,
    )
    positions: list[int] = []
    if rtype.kind == RequestKind.slot:
        length = timedelta(minutes=form.duration.data)
        for position, day, at in form.filled_slots():
            start = to_utc(day, at)
            data.slots.append(SlotInput(start=start, end=start + length))
            positions.append(position)
        data.mode = Mode(form.mode.data)
        data.site_id = form.site.data
        data.call_number = form.call_number.data
        data.expected_pupils = form.expected_pupils.data
        data.expected_parents = form.expected_parents.data
        data.expected_teachers = form.expected_teachers.data
        if "family_code" in form:
            data.family_code = form.family_code.data
    else:
        data.deadline = to_utc(form.deadline_date.data, form.deadline_time.data)
        data.direction = Direction(form.direction.data)
        data.page_count = form.page_count.data
    try:
        if rtype.kind == RequestKind.slot and form.weeks.data > 1:
            req = operations.submit_series(user, data, form.weeks.data).requests[0]
        else:
            req = operations.submit_request(user, data)
    except InvalidInput as error:
        # The operation numbers the slots it was given; the form may have skipped one.
        if error.field and error.field.startswith("slot_") and positions:
            index = int(error.field.removeprefix("slot_")) - 1
            if 0 <= index < len(positions):
                error.field = f"slot_{positions[index]}"
        raise
    if rtype.kind == RequestKind.deadline:
        stored = []
        try:
            for upload in form.uploads():
                stored.append(store_upload(upload, req, DocumentKind.source, user,
                                           field="documents"))
        except InvalidUpload:
            for document in stored:  # the transaction rolls back: drop the files too
                document_path(document).unlink(missing_ok=True)
            raise
    return req


def _show_error(form, error) -> None:
    """Put a domain error next to the field it names: a slot's error on its date."""
    aliases = {"deadline": "deadline_date"}
    if error.field and error.field.startswith("slot_"):
        aliases[error.field] = f"{error.field}_date"
    show_error(form, error, aliases)


@bp.route("/new/<type_code>", methods=["GET", "POST"])
@roles_required(*SCHOOL_ROLES)
def new(type_code: str):
    user = _user()
    rtype = queries.active_type(type_code)
    if rtype is None:
        abort(404)
    if rtype.kind == RequestKind.slot:
        form = MeetingForm(
            duration=rtype.default_duration_minutes or 60,
            expected_pupils=1 if rtype.concerns_pupil else 0,
            expected_parents=1,
            expected_teachers=1,
        )
    else:
        form = TranslationForm()
    form.use_pupil(rtype.concerns_pupil)
    cases = _fill_choices(form, user, rtype, _locale())
    chosen_case = request.args.get("pupil_case", type=int)
    if not form.is_submitted() and rtype.concerns_pupil and chosen_case in cases:
        # "Book the next step" from a pupil's case page.
        form.pupil_case.data = str(chosen_case)
    if form.validate_on_submit():
        try:
            req = _submit(form, user, rtype, cases)
        except (InvalidInput, InvalidUpload) as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            db.session.commit()
            if req.series is not None:
                flash(_("Weekly series of %(num)d requests sent.", num=req.series.weeks),
                      "success")
            elif req.state == RequestState.awaiting_approval:
                flash(_("Request sent to your school lead for approval."), "success")
            else:
                flash(_("Request sent: the coordinator will look for a mediator."), "success")
            return redirect(url_for("requests.detail", request_id=req.id))
    status = 400 if form.is_submitted() else 200
    lost_files = (status == 400 and isinstance(form, TranslationForm)
                  and bool(form.uploads()))
    return render_template(
        "requests/new.html", form=form, rtype=rtype, lost_files=lost_files,
        approval_needed=user.school.requires_lead_approval and user.role != Role.lead,
        window=queries.booking_window(user, in_rome(utcnow()).date()),
    ), status


# --- the request page --------------------------------------------------------


def _describe(event, mediator_names: dict[int, str]) -> list[str]:
    """The details of an audit event worth showing, translated."""
    data = event.data or {}
    details = []
    if event.action == "request.submitted" and data.get("state"):
        with suppress(ValueError):
            details.append(request_state_label(RequestState(data["state"])))
    if "reason" in data and data["reason"] in CANCELLATION_REASON_LABELS:
        details.append(str(CANCELLATION_REASON_LABELS[data["reason"]]))
    if data.get("late"):
        details.append(_("late: less than 24 hours before the meeting"))
    if data.get("mediator_id") in mediator_names:
        details.append(mediator_names[data["mediator_id"]])
    if data.get("proposed"):
        try:
            proposed = datetime.fromisoformat(data["proposed"])
        except ValueError:
            proposed = None
        if proposed is not None:
            details.append(_("proposed another time: %(time)s",
                             time=format_datetime(proposed, "short")))
    if data.get("moved_to"):
        with suppress(ValueError):
            details.append(_("moved to %(time)s", time=format_datetime(
                datetime.fromisoformat(data["moved_to"]), "short")))
    if data.get("outcome"):
        with suppress(ValueError):
            details.append(str(OUTCOME_LABELS[Outcome(data["outcome"])]))
    if data.get("kind"):
        with suppress(ValueError):
            details.append(str(DOCUMENT_KIND_LABELS[DocumentKind(data["kind"])]))
    return details


def _history(req: MediationRequest, user: User, own_assignments: set[int] | None):
    mediator_names = {a.mediator_id: a.mediator.user.display_name for a in req.assignments}
    rows = []
    for event in booking_queries.history(req):
        assignment_id = (event.data or {}).get("assignment_id")
        if own_assignments is not None and (
            (assignment_id and assignment_id not in own_assignments)
            or (event.actor is not None and event.actor.role == Role.mediator
                and event.actor_id != user.id)
        ):
            continue  # a mediator does not read about the other mediators' work
        rows.append({
            "when": event.created_dt,
            "actor": event.actor.display_name if event.actor else pgettext("actor", "System"),
            "label": str(EVENT_LABELS.get(event.action, event.action)),
            "details": _describe(event, mediator_names),
            "event": event,
        })
    return rows


def render_detail(req: MediationRequest, user: User, status: int = 200,
                  reject_form=None, cancel_form=None, dispute_form=None, no_show_form=None,
                  feedback_form=None):
    """The request's page; the forms of a refused action come back with their errors."""
    now = utcnow()
    allowed = policy.actions(user, req, now)
    if user.role == Role.mediator:
        assignments = [a for a in req.assignments if a.mediator.user_id == user.id]
        own = {a.id for a in assignments}
    else:
        assignments = list(req.assignments)
        own = None
    documents = queries.documents(req, user)
    context = {
        "req": req,
        "actions": allowed,
        "events": _history(req, user, own),
        "active": policy.active_assignment(req),
        # The time first: the appointment once a mediator has accepted, else the offer
        # waiting for an answer (with the buttons, for the mediator it is offered to).
        "appointment": req.appointment,
        "offer": req.pending_offer,
        "now": now,
        "assignments": assignments,
        "summary_for": {a.id for a in assignments if policy.reads_summary(user, a)},
        "sources": [d for d in documents if d.kind == DocumentKind.source],
        "translations": [d for d in documents if d.kind == DocumentKind.translation],
        "meeting_start": policy.meeting_start(req),
        "case_link": user.role in CASE_READERS,
        "reject_form": reject_form or RejectForm(formdata=None),
        "cancel_form": cancel_form or CancelForm(formdata=None),
        "dispute_form": dispute_form or DisputeForm(formdata=None),
        "no_show_form": no_show_form or NoShowForm(formdata=None),
        "feedback_form": feedback_form or FeedbackForm(formdata=None),
        # A confirmed meeting cancelled: the open requests its freed time could serve.
        "freed": (coordination_queries.freed_times(user, now, request_id=req.id)
                  if policy.sees_freed_time(user, req) else []),
        "family_answer": _family_answer(req) if allowed.family_answer else None,
    }
    return render_template("requests/detail.html", **context), status


def _family_answer(req: MediationRequest):
    """The current meeting's invitation (the family's answer, if any), issue #19."""
    from ..family import operations as family

    return family.latest_answers([req.id]).get(req.id)


@bp.route("/<int:request_id>")
@login_required
def detail(request_id: int):
    user = _user()
    req = booking_queries.load_request(request_id, user)
    return render_detail(req, user)


@bp.route("/<int:request_id>/documents/<int:document_id>")
@login_required
def document(request_id: int, document_id: int):
    """Download a document of a request the user can see."""
    user = _user()
    req = booking_queries.load_request(request_id, user)
    doc = queries.document(req, document_id, user)
    if doc is None or doc.storage_name is None:  # None: deleted by the retention purge
        abort(404)
    path = document_path(doc)
    if not path.is_file():
        abort(404)
    response = send_file(path, as_attachment=True, download_name=doc.original_name,
                         mimetype=doc.content_type, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    # Opened in the browser anyway, a file could not run script nor reach this site.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- the invitation letter for the family (mediation/requests/letter.py) -----


@bp.route("/<int:request_id>/letter")
@login_required
def letter(request_id: int):
    """The meeting's invitation, Italian beside the family's language, ready to print."""
    from . import letter as letters

    user = _user()
    req = booking_queries.load_request(request_id, user)
    page = letters.build(req, user, request.args.get("lang"))
    if page.appointment is not None:
        # The family's answer link (issue #19): issued the first time the letter is printed.
        from ..family import operations as family

        _invitation, token = family.issue(page.appointment)
        db.session.commit()
        base = current_app.config["EXTERNAL_URL"].rstrip("/")
        letters.add_answer_link(page, base + url_for("family.answer", token=token))
    return render_template("requests/letter.html", req=req, letter=page,
                           **letters.interface(page, _locale()))


@bp.app_template_global("letter_link")
def letter_link(req: MediationRequest) -> str:
    """For the request page: "ready", "waiting" (shown disabled) or "" (no link)."""
    from . import letter as letters

    return letters.link_state(req, _user())


# The request page's actions, on this blueprint (imported last: they render the page).
from . import actions as _actions  # noqa: E402, F401
from . import series as _series  # noqa: E402, F401
