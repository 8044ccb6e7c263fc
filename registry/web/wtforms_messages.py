"""WTForms' built-in messages, listed so the extractor puts them in our catalogue.

WTForms ships no Vietnamese translation; :class:`registry.web.forms.BaseForm` routes its
messages through our catalogue, where these entries give them one.
"""

from flask_babel import lazy_gettext as _l

WTFORMS_MESSAGES = (
    _l("Not a valid date value."),
    _l("Not a valid integer value."),
    _l("Not a valid choice."),
    _l("Invalid Choice: could not coerce."),
    _l("Invalid choice(s): one or more data inputs could not be coerced."),
    _l("This field is required."),
)
