"""Forms of the school pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TelField
from wtforms.validators import Length, Optional

from .operations import ADDRESS_MAX, TELEPHONE_MAX


def strip(value):
    return value.strip() if isinstance(value, str) else value


class SchoolContactForm(FlaskForm):
    """The school's address and telephone, printed on the family letter."""

    address = StringField(
        _l("Address"), filters=[strip],
        validators=[Optional(), Length(max=ADDRESS_MAX)],
        description=_l("Street and number, e.g. Via Roma 12 (the municipality is added)."),
    )
    telephone = TelField(
        _l("Telephone"), filters=[strip],
        validators=[Optional(), Length(max=TELEPHONE_MAX)],
        description=_l("The number families call, e.g. 0371 123456."),
    )
