"""Forms of the pupil pages: risk indicators, yearly status, and the list filters."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.validators import AnyOf, InputRequired, Optional, ValidationError

from ..labels import PUPIL_STATUS_LABELS, RISK_INDICATOR_LABELS
from ..models import ItalianLevel, PupilStatus
from ..requests.forms import FAMILY_CODE_HELP, code_field, options

STATUS_BADGES = {
    PupilStatus.attending: "success",
    PupilStatus.moved_to_next_cycle: "info",
    PupilStatus.at_risk: "danger",
    PupilStatus.left_school: "secondary",
}
LEVEL_CHOICES = [level.value for level in ItalianLevel]


def id_or_none(value):
    """Coerce a select's value to an id; anything else is None (refused by the validator)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class IndicatorsForm(FlaskForm):
    """The four risk indicators of a case."""

    high_absences = BooleanField(RISK_INDICATOR_LABELS["high_absences"])
    repeated_year = BooleanField(RISK_INDICATOR_LABELS["repeated_year"])
    late_enrolment = BooleanField(RISK_INDICATOR_LABELS["late_enrolment"])
    italian_level = SelectField(
        _l("Level of Italian"),
        choices=options([("", _l("Not assessed")), *((v, v) for v in LEVEL_CHOICES)]),
        validate_choice=False,
        validators=[Optional(), AnyOf(LEVEL_CHOICES,
                                      message=_l("Choose a level from the list."))],
        description=_l("A0 and A1 count as a risk indicator."),
    )


class FamilyForm(FlaskForm):
    """The code of the pupil's family (empty: none)."""

    family_code = code_field(_l("Family code"), FAMILY_CODE_HELP)


class StatusForm(FlaskForm):
    """A case's status in one school year (the years are filled in by the view)."""

    school_year = SelectField(
        _l("School year"), coerce=id_or_none, validate_choice=False,
        validators=[InputRequired(message=_l("Choose a school year."))],
    )
    status = SelectField(
        _l("Status"), validate_choice=False,
        choices=options([("", _l("Choose a status")),
                         *((s.value, label) for s, label in PUPIL_STATUS_LABELS.items())]),
        validators=[InputRequired(message=_l("Choose a status.")),
                    AnyOf([s.value for s in PupilStatus],
                          message=_l("Choose a status from the list."))],
    )

    def validate_school_year(self, field):
        if field.data not in [choice.value for choice in field.choices if choice.value]:
            raise ValidationError(_l("Choose a school year from the list."))


class CaseFilterForm(FlaskForm):
    """Filters of the lead's list of cases (a GET form)."""

    class Meta:
        csrf = False

    class_name = SelectField(_l("Class"), validators=[Optional()])
    status = SelectField(_l("Status this school year"), validators=[Optional()])


class AtRiskFilterForm(FlaskForm):
    """Filter of the list of cases at risk (a GET form)."""

    class Meta:
        csrf = False

    school = SelectField(_l("School"), validators=[Optional()])
