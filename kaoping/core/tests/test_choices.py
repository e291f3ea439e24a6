"""Choice labels (`get_FOO_display`) as Django gives them, read from a dict built once."""

import pytest
from django.utils import translation

from kaoping.core import choices
from kaoping.ledger.models import Entry, EntryStatus
from kaoping.regions.models import Region


def test_every_model_reads_its_labels_through_the_dict_built_once():
    # Bound when the class was created: were it Django's own, install() came too late.
    assert Entry.get_status_display._partialmethod.func is choices.field_display
    assert Region.get_level_display._partialmethod.func is choices.field_display


def test_a_label_speaks_the_active_language_on_every_call():
    entry = Entry(status=EntryStatus.APPROVED)
    with translation.override("zh-hans"):
        chinese = entry.get_status_display()
    with translation.override("en"):
        english = entry.get_status_display()
    assert (chinese, english) == ("已通过", "approved")
    with translation.override("zh-hans"):
        assert entry.get_status_display() == chinese


@pytest.mark.parametrize("value", ["no-such-status", "", None])
def test_a_value_outside_the_choices_is_shown_as_it_is(value):
    assert Entry(status=value).get_status_display() == value
