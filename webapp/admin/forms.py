"""Forms for managing users."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField

# New in WTForms 3.3; types-WTForms (3.2) does not have it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import DataRequired, Length

from webapp.models import Role

ROLE_CHOICES = [SelectChoice(role.value, role.value.capitalize()) for role in Role]


class UserCreateForm(FlaskForm):
    """A new user: email, initial password and role."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Initial password", validators=[DataRequired(), Length(max=1024)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.VIEWER.value)


class UserUpdateForm(FlaskForm):
    """A user's role, and whether they may still sign in."""

    role = SelectField("Role", choices=ROLE_CHOICES)
    active = SelectField(
        "Status", choices=[SelectChoice("1", "Active"), SelectChoice("0", "Deactivated")]
    )
