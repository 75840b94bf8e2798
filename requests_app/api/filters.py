from django_filters import rest_framework as filters

from ..models import LegalRequest
from ..states import Instrument, Status


class RequestFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=Status.choices)
    instrument = filters.MultipleChoiceFilter(choices=Instrument.choices)
    received_after = filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = LegalRequest
        fields = ["status", "instrument", "received_after", "received_before"]
