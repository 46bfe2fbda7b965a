"""The mediator's forms: declining an offer, logging a session or a translation.

Dates and times are Europe/Rome wall-clock values; the view turns them into UTC.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..models import Outcome

SUMMARY_MAX = 1000


def strip(value):
    return value.strip() if isinstance(value, str) else value


class AnswerForm(FlaskForm):
    """Accepting an offer: nothing to fill in, but a CSRF token and where to go back."""

    next = HiddenField()


class DeclineForm(FlaskForm):
    next = HiddenField()
    reason = TextAreaField(
        _l("Why do you decline?"),
        validators=[DataRequired(), Length(max=500)],
        filters=[strip],
        description=_l("The coordinator reads this. No names or sensitive details."),
    )
    proposed_date = DateField(
        _l("Another day you could come"), validators=[Optional()],
        description=_l("Optional: propose another time to the coordinator."),
    )
    proposed_time = TimeField(_l("At"), validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if bool(self.proposed_date.data) != bool(self.proposed_time.data):
            missing = self.proposed_time if self.proposed_date.data else self.proposed_date
            missing.errors = [*missing.errors, _l("Give both the day and the time, or neither.")]
            valid = False
        return valid


class _LogForm(FlaskForm):
    summary = TextAreaField(
        _l("Short summary"),
        validators=[Optional(), Length(max=SUMMARY_MAX)],
        filters=[strip],
        description=_l(
            "At most %(count)d characters. No names and no sensitive details about"
            " the pupil or the family (health, legal status, religion...).",
            count=SUMMARY_MAX,
        ),
    )
    follow_up_needed = BooleanField(_l("A follow-up is needed"))


class MeetingLogForm(_LogForm):
    """What happened at a meeting."""

    day = DateField(_l("Day"), validators=[InputRequired()])
    actual_start = TimeField(_l("Started at"), validators=[InputRequired()])
    actual_end = TimeField(_l("Ended at"), validators=[InputRequired()])
    pupils_met = IntegerField(_l("Pupils"), default=0,
                              validators=[InputRequired(), NumberRange(min=0, max=500)])
    parents_met = IntegerField(_l("Parents and family members"), default=0,
                               validators=[InputRequired(), NumberRange(min=0, max=500)])
    teachers_met = IntegerField(_l("Teachers and school staff"), default=0,
                                validators=[InputRequired(), NumberRange(min=0, max=500)])
    outcome = RadioField(
        _l("Outcome"),
        choices=[
            SelectChoice(Outcome.held.value, _l("Held")),
            SelectChoice(Outcome.family_absent.value, _l("The family did not come")),
            SelectChoice(Outcome.cancelled_late.value, _l("Cancelled at the last minute")),
        ],
        default=Outcome.held.value,
        validators=[InputRequired()],
    )


class TranslationLogForm(_LogForm):
    """What was translated, and the translated document."""

    pages = IntegerField(_l("Pages"), validators=[InputRequired(), NumberRange(min=1, max=1000)])
    words = IntegerField(_l("Words"), validators=[Optional(), NumberRange(min=1, max=1_000_000)])
    document = FileField(
        _l("Translated document"),
        description=_l("PDF, Word (.docx), Excel (.xlsx), OpenDocument, text or image file,"
                        " at most 10 MB."),
    )
