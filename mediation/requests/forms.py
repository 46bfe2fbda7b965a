"""Forms of the schools' pages: the request per type, the list filters, approve/reject/cancel.

Choices that come from the database (languages, sites, pupil codes, types) are
filled in by the view; the forms only know their shape and their messages.
"""

from datetime import date, time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from ..bookings.operations import MAX_SERIES_WEEKS
from ..core.operations import TELEPHONE_MAX, clean_telephone, is_telephone
from ..labels import (
    CANCELLATION_REASON_LABELS,
    DIRECTION_LABELS,
    MODE_LABELS,
    RATING_LABELS,
    URGENCY_LABELS,
)
from ..models import Direction, Mode, Urgency, utcnow

DURATIONS = (30, 45, 60, 90, 120)
SLOT_COUNT = 3
#: Value of the pupil select that opens the inline "new pupil code" fields.
NEW_CASE = "new"

NO_NAMES = _l(
    "Do not write names or sensitive information about the pupil or the family:"
    " the pupil code is enough."
)


def strip(value):
    return value.strip() if isinstance(value, str) else value


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as select options."""
    return [SelectChoice(value, label) for value, label in pairs]


def chosen(field) -> str | None:
    """A filter select's value when it is one of its options, else None (no filter).

    ``Optional()`` stops the validation of a blank value ("  ") without an error, so a
    value that passed validation is not necessarily one of the choices.
    """
    if field.errors or not isinstance(field.data, str) or not field.data.strip():
        return None
    values = {str(choice[0]) for choice in field.iter_choices()}
    return field.data if field.data in values else None


def int_or_none(value):
    """Coerce a select's value: "" (the "Choose..." option) is None."""
    return int(value) if value not in ("", None) else None


def _required():
    return InputRequired(message=_l("This field is required."))


def _participants(label):
    return IntegerField(
        label,
        default=0,
        validators=[
            InputRequired(message=_l("Give a number (0 if nobody).")),
            NumberRange(min=0, max=500, message=_l("Give a number between 0 and 500.")),
        ],
        render_kw={"min": 0, "max": 500, "inputmode": "numeric"},
    )


class AtLeastOneFile:
    """A multiple file field with at least one file chosen (marked required in the page)."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        if not [f for f in (field.data or []) if f and getattr(f, "filename", "")]:
            raise ValidationError(_l("Attach at least one document to translate."))


def code_field(label, description) -> StringField:
    """A pseudonymous code a school gives (a pupil's, a family's): at most 20 letters,
    digits, '-', '/', '.' or '_', never a name; optional (stored in capitals)."""
    return StringField(
        label,
        filters=[strip],
        validators=[
            Optional(),
            Length(max=20),
            Regexp(r"^[A-Za-z0-9][A-Za-z0-9/._-]*$",
                   message=_l("Use letters, digits, '-', '/', '.' or '_' only.")),
        ],
        description=description,
        render_kw={"autocomplete": "off", "maxlength": 20},
    )


FAMILY_CODE_LABEL = _l("Family code (optional)")
FAMILY_CODE_HELP = _l("A code your school gives the family (e.g. F-2026-004), the same for "
                      "brothers and sisters: never a name. Its parents then count once among "
                      "the people reached, however many meetings they come to.")


class _RequestForm(FlaskForm):
    """Fields every request type asks for."""

    language = SelectField(
        _l("Language"), coerce=int_or_none, validators=[_required()],
        description=_l("For a variety (e.g. Moroccan Arabic), choose it rather than the language."),
    )
    # Pupil: one of the school's codes, or a new code filled in below.
    pupil_case = SelectField(
        _l("Pupil"), validators=[_required()],
        description=_l("Pupils are known here only by the code your school gives them."),
    )
    case_code = code_field(
        _l("New pupil code"),
        _l("A code your school gives the pupil (e.g. 2026-017): never the name."))
    case_family_code = code_field(FAMILY_CODE_LABEL, FAMILY_CODE_HELP)
    case_class = StringField(_l("Class"), filters=[strip], validators=[Optional(), Length(max=20)],
                             render_kw={"maxlength": 20, "placeholder": "2B"})
    case_cycle = SelectField(_l("School cycle"), validators=[Optional()])
    case_arrival_year = IntegerField(
        _l("Year of arrival in Italy"),
        validators=[Optional(), NumberRange(min=1990, max=2100,
                                            message=_l("Give a year from 1990 on."))],
        render_kw={"inputmode": "numeric", "min": 1990},
    )
    case_home_language = SelectField(_l("Language spoken at home"), coerce=int, default=0,
                                     validators=[Optional()])
    urgency = RadioField(
        _l("Urgency"), default=Urgency.normal.value,
        choices=options((u.value, label) for u, label in URGENCY_LABELS.items()),
        validators=[_required()],
    )
    notes = TextAreaField(_l("Notes for the coordinator and the mediator"), filters=[strip],
                          validators=[Optional(), Length(max=2000)], description=NO_NAMES)

    concerns_pupil = False

    def validate_case_arrival_year(self, field):
        if field.data is not None and field.data > utcnow().year:
            raise ValidationError(_l("This year has not come yet."))

    def use_pupil(self, concerns_pupil: bool) -> None:
        """Drop the pupil fields when the request type is not about one pupil."""
        self.concerns_pupil = concerns_pupil
        if not concerns_pupil:
            for name in ("pupil_case", "case_code", "case_family_code", "case_class",
                         "case_cycle", "case_arrival_year", "case_home_language"):
                del self[name]
        elif "family_code" in self:  # a pupil's family is the pupil's case's
            del self["family_code"]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.concerns_pupil and self.pupil_case.data == NEW_CASE:
            for field in (self.case_code, self.case_class, self.case_cycle):
                if not field.data:
                    field.errors = [*field.errors, _l("This field is required for a new pupil.")]
                    valid = False
        return valid


class MeetingForm(_RequestForm):
    """A meeting at a time (slot-based request types)."""

    expected_pupils = _participants(_l("Pupils"))
    expected_parents = _participants(_l("Parents or family members"))
    expected_teachers = _participants(_l("Teachers"))
    # A meeting that names no pupil (dropped otherwise, see use_pupil).
    family_code = code_field(FAMILY_CODE_LABEL, FAMILY_CODE_HELP)
    mode = RadioField(
        _l("How the meeting takes place"), default=Mode.in_person.value,
        choices=options((m.value, label) for m, label in MODE_LABELS.items()),
        validators=[_required()],
    )
    site = SelectField(_l("Where (school site)"), coerce=int_or_none,
                       description=_l("Required for a meeting in person."))
    call_number = StringField(
        _l("Number to call"), filters=[strip],
        validators=[Optional(), Length(max=TELEPHONE_MAX)],
        description=_l("Required for a meeting by phone: the number the mediator calls "
                       "for the meeting (e.g. 0371 123456)."),
        render_kw={"maxlength": TELEPHONE_MAX, "inputmode": "tel", "autocomplete": "off"},
    )
    duration = SelectField(
        _l("Duration"), coerce=int_or_none, validators=[_required()], validate_choice=False,
        description=_l("The same for each of the times you propose."),
    )
    weeks = SelectField(
        _l("Repeat"), coerce=int, default=1,
        choices=[SelectChoice(1, _l("Once"))] + [
            SelectChoice(n, _l("Every week for %(num)d weeks", num=n))
            for n in range(2, MAX_SERIES_WEEKS + 1)
        ],
        description=_l("For regular support, e.g. a newly arrived pupil: the same day and "
                       "time each week, one request per week."),
    )
    slot_1_date = DateField(_l("Day"), validators=[Optional()])
    slot_1_time = TimeField(_l("Start time"), validators=[Optional()])
    slot_2_date = DateField(_l("Day"), validators=[Optional()])
    slot_2_time = TimeField(_l("Start time"), validators=[Optional()])
    slot_3_date = DateField(_l("Day"), validators=[Optional()])
    slot_3_time = TimeField(_l("Start time"), validators=[Optional()])

    def validate_duration(self, field):
        if field.data is not None and field.data < 15:
            raise ValidationError(_l("A meeting lasts at least 15 minutes."))
        if field.data not in [choice.value for choice in field.choices]:
            raise ValidationError(_l("Choose one of the durations in the list."))

    def slot_fields(self):
        """[(position, date field, time field)] for the three proposed times."""
        return [(i, self[f"slot_{i}_date"], self[f"slot_{i}_time"])
                for i in range(1, SLOT_COUNT + 1)]

    def filled_slots(self) -> list[tuple[int, date, time]]:
        return [(i, d.data, t.data) for i, d, t in self.slot_fields() if d.data and t.data]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.weeks.data and self.weeks.data > 1 and len(self.filled_slots()) > 1:
            self.slot_2_date.errors = [*self.slot_2_date.errors, _l(
                "A weekly series has one time only: leave the second and third choice empty.")]
            valid = False
        for position, day, at in self.slot_fields():
            if day.errors or at.errors:
                continue
            if day.data and not at.data:
                at.errors = [_l("Give the start time as well.")]
                valid = False
            elif at.data and not day.data:
                day.errors = [_l("Give the day as well.")]
                valid = False
            elif position == 1 and not day.data and not at.data:
                day.errors = [_l("Propose at least one time.")]
                valid = False
        if self.mode.data == Mode.in_person.value and not self.site.data and not self.site.errors:
            self.site.errors = [_l("Choose where the meeting takes place.")]
            valid = False
        if self.mode.data == Mode.phone.value and not self.call_number.errors:
            number = clean_telephone(self.call_number.data)
            if number is None:
                self.call_number.errors = [_l("Give the number to call for the meeting.")]
                valid = False
            elif not is_telephone(number):
                self.call_number.errors = [_l("Write a telephone number, e.g. 0371 123456.")]
                valid = False
        return valid


class TranslationForm(_RequestForm):
    """Documents to translate by a deadline (deadline-based request types)."""

    deadline_date = DateField(_l("Needed by (day)"), validators=[_required()])
    deadline_time = TimeField(_l("Needed by (time)"), default=time(12, 0),
                              validators=[_required()])
    direction = RadioField(
        _l("Direction"), default=Direction.from_italian.value,
        choices=options((d.value, label) for d, label in DIRECTION_LABELS.items()),
        validators=[_required()],
    )
    page_count = IntegerField(
        _l("Number of pages"), validators=[Optional(), NumberRange(min=1, max=500)],
        render_kw={"min": 1, "max": 500, "inputmode": "numeric"},
    )
    documents = MultipleFileField(
        _l("Documents to translate"),
        validators=[AtLeastOneFile()],
        description=_l("PDF, Word (.docx), Excel (.xlsx), OpenDocument, text or image files,"
                        " at most 10 MB each."),
        render_kw={"accept": ".pdf,.docx,.xlsx,.odt,.txt,.jpg,.jpeg,.png"},
    )

    def uploads(self):
        return [f for f in (self.documents.data or []) if f and getattr(f, "filename", "")]


class FilterForm(FlaskForm):
    """Filters of the list of requests (a GET form)."""

    class Meta:
        csrf = False

    state = SelectField(_l("Status"), validators=[Optional()])
    type = SelectField(_l("Request type"), validators=[Optional()])
    language = SelectField(_l("Language"), validators=[Optional()])
    date_from = DateField(_l("Meeting or deadline from"), validators=[Optional()])
    date_to = DateField(_l("Meeting or deadline until"), validators=[Optional()])
    mine = BooleanField(_l("Only my requests"))


class RejectForm(FlaskForm):
    reason = TextAreaField(
        _l("Why is the request rejected?"), filters=[strip],
        validators=[InputRequired(message=_l("Say why the request is rejected.")),
                    Length(max=1000)],
        description=_l("The teacher who made the request will read this."),
    )


class DisputeForm(FlaskForm):
    """The school disputes a logged session (the confirmation is a button, no form)."""

    reason = TextAreaField(
        _l("What did not happen as logged?"), filters=[strip],
        validators=[InputRequired(message=_l("Say what did not happen as logged.")),
                    Length(max=1000)],
        description=_l("The coordinator of the Ambito will read this."),
    )


class NoShowForm(FlaskForm):
    """The school reports that the mediator did not come (the button is the confirmation
    step's; the note is optional)."""

    note = TextAreaField(
        _l("Anything to add (optional)"), filters=[strip],
        validators=[Optional(), Length(max=1000)],
        description=_l("The coordinator of the Ambito will read this. Do not write names "
                       "or sensitive information about the pupil or the family."),
    )


class FeedbackForm(FlaskForm):
    """The question after a held session (issue #19): a rating from 1 to 5 and an
    optional comment. The question itself depends on who answers (the template gives
    the school's or the mediator's as the legend)."""

    rating = RadioField(
        _l("Your rating"),
        choices=options((str(value), label) for value, label in RATING_LABELS.items()),
        validators=[InputRequired(message=_l("Choose a rating from 1 to 5."))],
    )
    comment = TextAreaField(
        _l("Anything else you want to tell us? (optional)"), filters=[strip],
        validators=[Optional(), Length(max=500)],
        description=_l("Do not write names: the coordinator of the Ambito reads this."),
    )


class CancelForm(FlaskForm):
    reason = SelectField(
        _l("Reason"),
        choices=options([("", _l("Choose a reason")), *CANCELLATION_REASON_LABELS.items()]),
        validators=[InputRequired(message=_l("Choose a reason."))],
    )
    note = TextAreaField(_l("Note (optional)"), filters=[strip],
                         validators=[Optional(), Length(max=1000)], description=NO_NAMES)


class MoveWeekForm(FlaskForm):
    """Move one week of a series: the new day and start (it keeps its length)."""

    date = DateField(_l("New day"), validators=[InputRequired(message=_l("Choose a day."))])
    start = TimeField(_l("New start time"),
                      validators=[InputRequired(message=_l("Choose a time."))])
    reason = TextAreaField(
        _l("Why it is moved"), filters=[strip],
        validators=[InputRequired(message=_l("Say why this week is moved.")),
                    Length(max=1000)],
        description=_l("The mediator, if one has this week, will read this."),
    )
