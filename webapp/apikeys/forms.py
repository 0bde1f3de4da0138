"""The form that creates an API key."""

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField

# New in WTForms 3.3; types-WTForms (3.2) does not have it yet.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class ApiKeyCreateForm(FlaskForm):
    """A new API key: its name, scope and optional lifetime."""

    name = StringField("Name", validators=[DataRequired(), Length(max=100)])
    scope = SelectField(
        "Scope",
        choices=[
            SelectChoice("read", "Read: list and view SIMs"),
            SelectChoice("write", "Write: also change SIMs and send SMS"),
        ],
        default="read",
    )
    expires_days = IntegerField(
        "Expires after (days)",
        validators=[Optional(), NumberRange(min=1, max=3650)],
        description="Leave empty for a key that does not expire.",
    )
