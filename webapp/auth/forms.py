"""Forms for signing in, changing one's password and choosing one's time zone."""

from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo, Length

from webapp.auth.passwords import MAX_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    """Email and password, and whether to stay signed in."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    remember = BooleanField("Keep me signed in for 7 days")


class PasswordChangeForm(FlaskForm):
    """The current password, and the new one twice."""

    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    new_password = PasswordField(
        "New password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", message="The passwords differ.")],
    )


def time_zone_choices() -> list[tuple[str, str]]:
    """The browser's own zone (the default), then every IANA zone zoneinfo knows, by name."""
    return [
        ("", "Your browser's time zone"),
        *((name, name) for name in sorted(available_timezones())),
    ]


class TimeZoneForm(FlaskForm):
    """The zone the pages show times in; empty for the browser's own."""

    time_zone = SelectField(
        "Show times in",
        choices=time_zone_choices,
        validate_choice=True,
        validators=[Length(max=64)],
    )
