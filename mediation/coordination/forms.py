"""Forms of the coordinator's pages: queue filters, offers, cancellations, log reviews."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..bounds import MAX_ID
from ..models import RequestState, Urgency

#: The queue's "all states" choice.
ALL = "all"


def strip(value):
    return value.strip() if isinstance(value, str) else value


class QueueFilterForm(FlaskForm):
    """The queue's filters and order, read from the query string."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), default=RequestState.open.value, validators=[Optional()])
    school = SelectField(_l("School"), default="", validators=[Optional()])
    language = SelectField(_l("Language"), default="", validators=[Optional()])
    type = SelectField(_l("Request type"), default="", validators=[Optional()])
    urgency = SelectField(
        _l("Urgency"),
        choices=[SelectChoice("", _l("Any urgency")),
                 SelectChoice(Urgency.urgent.value, _l("Urgent")),
                 SelectChoice(Urgency.normal.value, _l("Normal"))],
        default="",
        validators=[Optional()],
    )
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    sort = SelectField(
        _l("Sort by"),
        choices=[SelectChoice("urgency", _l("Urgent, then oldest")),
                 SelectChoice("age", _l("Oldest first")),
                 SelectChoice("date", _l("Date of the meeting"))],
        default="urgency",
        validators=[Optional()],
    )


class OfferForm(FlaskForm):
    """Offer (or reassign) the request to a mediator at a time.

    The time is a preferred slot (``slot`` is its position) or, with ``slot``
    "other", a date, start and end agreed by phone.
    """

    slot = HiddenField()
    date = DateField(_l("Date"), validators=[Optional()])
    start = TimeField(_l("Start"), validators=[Optional()])
    end = TimeField(_l("End"), validators=[Optional()])
    mediator_id = IntegerField(validators=[DataRequired(), NumberRange(min=1, max=MAX_ID)])
    reason = TextAreaField(
        _l("Why it is reassigned"),
        validators=[Optional(), Length(max=1000)],
        filters=[strip],
        description=_l("The mediator who had it will read this."),
    )


class BroadcastForm(FlaskForm):
    """Offer the request, at the time chosen, to several mediators at once: those ticked
    in the list, or else the top ``top`` of the ranking; optionally the next
    ``second_tier`` of the ranking ``delay_hours`` later if nobody has accepted."""

    slot = HiddenField()
    date = DateField(_l("Date"), validators=[Optional()])
    start = TimeField(_l("Start"), validators=[Optional()])
    end = TimeField(_l("End"), validators=[Optional()])
    top = IntegerField(_l("How many of the best to ask now"), default=3,
                       validators=[Optional(), NumberRange(min=2, max=12)],
                       description=_l("Used when no mediator is ticked in the list."))
    second_tier = IntegerField(_l("Then ask the next ones"), default=0,
                               validators=[Optional(), NumberRange(min=0, max=10)],
                               description=_l("0: nobody else."))
    delay_hours = IntegerField(_l("After how many hours without an answer"), default=4,
                               validators=[Optional(), NumberRange(min=1, max=72)])


class ReviewLogForm(FlaskForm):
    """Approve a session log, possibly counting it against another macro-action or action."""

    macro_action_id = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_ID)])
    action_id = IntegerField(validators=[Optional(), NumberRange(min=1, max=MAX_ID)])


class ReturnLogForm(FlaskForm):
    comment = TextAreaField(
        _l("What to correct"), validators=[Length(max=1000)], filters=[strip]
    )
