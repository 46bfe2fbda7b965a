"""Forms for a mediator's availability, profile and absences.

Times are Europe/Rome wall-clock values; the view turns absences into UTC.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..labels import LANGUAGE_LEVEL_LABELS

#: Days that can be edited: Monday (0) to Saturday (5).
EDITABLE_WEEKDAYS = range(6)
#: Ranges per day in the form.
ROWS_PER_DAY = 3
#: Empty language rows offered below the mediator's languages.
SPARE_LANGUAGE_ROWS = 2

def strip(value):
    return value.strip() if isinstance(value, str) else value


def range_field(weekday: int, row: int, end: str) -> str:
    """The name of a time field: ``d0_1_from`` is Monday's first range's start."""
    return f"d{weekday}_{row}_{end}"


class AvailabilityForm(FlaskForm):
    """The weekly pattern: up to ``ROWS_PER_DAY`` from/to pairs for each weekday.

    Empty rows are ignored; a row with only one time is an error.
    """

    def ranges(self) -> list[tuple[int, object, object]]:
        result = []
        for weekday in EDITABLE_WEEKDAYS:
            for row in range(1, ROWS_PER_DAY + 1):
                start = self[range_field(weekday, row, "from")].data
                end = self[range_field(weekday, row, "to")].data
                if start and end:
                    result.append((weekday, start, end))
        return result

    def fill(self, ranges) -> None:
        """Put the stored ranges into the rows, in order within each day."""
        rows: dict[int, int] = {}
        for r in ranges:
            if r.weekday not in EDITABLE_WEEKDAYS:
                continue
            rows[r.weekday] = rows.get(r.weekday, 0) + 1
            if rows[r.weekday] <= ROWS_PER_DAY:
                self[range_field(r.weekday, rows[r.weekday], "from")].data = r.start_time
                self[range_field(r.weekday, rows[r.weekday], "to")].data = r.end_time

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for weekday in EDITABLE_WEEKDAYS:
            for row in range(1, ROWS_PER_DAY + 1):
                start = self[range_field(weekday, row, "from")]
                end = self[range_field(weekday, row, "to")]
                if bool(start.data) != bool(end.data) and not (start.errors or end.errors):
                    missing = end if start.data else start
                    missing.errors = [*missing.errors, _l("Give both times, or neither.")]
                    valid = False
        return valid


for _weekday in EDITABLE_WEEKDAYS:
    for _row in range(1, ROWS_PER_DAY + 1):
        setattr(AvailabilityForm, range_field(_weekday, _row, "from"),
                TimeField(_l("From"), validators=[Optional()]))
        setattr(AvailabilityForm, range_field(_weekday, _row, "to"),
                TimeField(_l("To"), validators=[Optional()]))


class LanguageRowForm(Form):
    """One language and level; a row without a language is ignored."""

    language = SelectField(_l("Language"), coerce=str, validators=[Optional()])
    level = SelectField(
        _l("Level"),
        choices=[SelectChoice("", "")]
        + [SelectChoice(level.value, label) for level, label in LANGUAGE_LEVEL_LABELS.items()],
        validators=[Optional()],
    )


class OwnProfileForm(AvailabilityForm):
    """Availability plus what a mediator states of themself: languages and towns."""

    languages = FieldList(FormField(LanguageRowForm), label=_l("Languages"))
    municipalities = TextAreaField(
        _l("Other municipalities they travel to"),
        validators=[Optional(), Length(max=5000)],
        description=_l("One per line, or separated by commas."),
    )

    def language_rows(self) -> list[tuple[int, str]]:
        rows = []
        for entry in self.languages:
            language = entry.form.language.data
            if language:
                rows.append((int(language), entry.form.level.data or ""))
        return rows

    def municipality_names(self) -> list[str]:
        text = self.municipalities.data or ""
        return [part for line in text.splitlines() for part in line.split(",")]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for entry in self.languages:
            if entry.form.language.data and not entry.form.level.data:
                entry.form.level.errors = [*entry.form.level.errors, _l("Choose a level.")]
                valid = False
        return valid


class ProfileForm(OwnProfileForm):
    """The whole profile, for coordinators and the admin: plus the cap and the Ambiti."""

    weekly_hour_cap = DecimalField(
        _l("Weekly hour cap"), places=2,
        validators=[InputRequired(), NumberRange(min=1, max=60)],
        description=_l("The most hours of meetings a week the mediator can be offered."),
    )
    ambiti = SelectMultipleField(
        _l("Ambiti served"), coerce=int,
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
    )


class AbsenceForm(FlaskForm):
    """An absence from one day and time to another; empty times mean whole days."""

    start_date = DateField(_l("From (day)"), validators=[InputRequired()])
    start_time = TimeField(_l("From (time)"), validators=[Optional()],
                           description=_l("Leave empty for the whole day."))
    end_date = DateField(_l("To (day)"), validators=[InputRequired()])
    end_time = TimeField(_l("To (time)"), validators=[Optional()],
                         description=_l("Leave empty for the whole day."))
    reason = StringField(
        _l("Reason"), validators=[Optional(), Length(max=200)], filters=[strip],
        description=_l("Optional, seen by your coordinator. No health details."),
    )


class RateForm(FlaskForm):
    """A new hourly rate and the day from which it applies."""

    hourly_cost = DecimalField(_l("Hourly rate (euros)"), places=2,
                               validators=[InputRequired(), NumberRange(min=0, max=1000)])
    valid_from = DateField(_l("Valid from (day)"), validators=[InputRequired()],
                           description=_l("It applies to the sessions from this day on, "
                                          "until the next rate's day."))


class ConfirmForm(FlaskForm):
    """A button that changes something: nothing to fill in but the CSRF token."""
