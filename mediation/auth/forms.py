"""Account forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from .passwords import min_length, password_problem


def strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email()], filters=[strip])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Remember me on this device"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email()], filters=[strip])


class NewPasswordForm(FlaskForm):
    """A new password, checked against the policy (mediation/auth/passwords.py)."""

    password = PasswordField(_l("New password"), validators=[DataRequired()])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(),
            EqualTo("password", message=_l("The two passwords do not match.")),
        ],
    )

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        #: The user whose password this is: it may not contain their email or name.
        self.account = account
        self.password.description = _l(
            "At least %(count)d characters; not a common password, nor your email or name.",
            count=min_length(),
        )

    def validate_password(self, field):
        problem = password_problem(field.data or "", getattr(self.account, "email", None),
                                   getattr(self.account, "display_name", None))
        if problem is not None:
            raise ValidationError(str(problem))


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])


class PreferencesForm(FlaskForm):
    display_name = StringField(
        _l("Name shown to others"), validators=[DataRequired(), Length(max=120)]
    )
    locale = SelectField(
        _l("Language of pages and emails"),
        choices=[
            SelectChoice("it", "Italiano", render_kw={"lang": "it"}),
            SelectChoice("en", "English", render_kw={"lang": "en"}),
        ],
    )
