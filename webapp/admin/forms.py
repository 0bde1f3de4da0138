"""Forms for managing users."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from webapp.models import Role

ROLE_CHOICES = [SelectChoice(role.value, role.value.capitalize()) for role in Role]


class UserCreateForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Initial password", validators=[DataRequired(), Length(max=1024)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.VIEWER.value)


class UserUpdateForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)
    active = SelectField(
        "Status", choices=[SelectChoice("1", "Active"), SelectChoice("0", "Deactivated")]
    )
