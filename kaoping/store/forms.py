import uuid
from decimal import Decimal

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kaoping.core.limits import WHOLE_NUMBER_MAX, PlainTextMixin

from .models import Goods, StockKind


class KeyedForm(PlainTextMixin, forms.Form):
    """A form that carries a fresh uuid, so that a double tap or a resent POST writes once."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=32)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def clean_idempotency_key(self):
        try:
            return uuid.UUID(hex=self.cleaned_data["idempotency_key"]).hex
        except ValueError:
            raise forms.ValidationError(
                _("The form is out of date; open it again."), code="key"
            ) from None

    def key_for(self, user) -> str:
        # The key is the user's own: a key copied from someone else's form finds nothing.
        return f"store:{user.pk}:{self.cleaned_data['idempotency_key']}"


class GoodsChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _("%(name)s · %(price)s points · %(stock)s left") % {
            "name": obj.name,
            "price": f"{obj.price.normalize():f}",
            "stock": obj.stock,
        }


class RequestForm(KeyedForm):
    """A household asks for one item (the villager's page)."""

    goods = forms.ModelChoiceField(queryset=Goods.objects.none(), widget=forms.HiddenInput)

    def __init__(self, *args, store, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["goods"].queryset = Goods.objects.filter(store=store, active=True)


class RedeemForm(KeyedForm):
    """The keeper hands goods over at the counter."""

    goods = GoodsChoiceField(label=gettext_lazy("Goods"), queryset=Goods.objects.none())
    quantity = forms.IntegerField(
        label=gettext_lazy("How many"),
        min_value=1,
        max_value=99,
        initial=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args, store, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["goods"].queryset = Goods.objects.filter(
            store=store, active=True, stock__gt=0
        ).order_by("position", "price", "pk")


class ReasonForm(PlainTextMixin, forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


class CardLookupForm(forms.Form):
    number = forms.CharField(
        label=gettext_lazy("Card number or household number"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "autofocus": True}
        ),
    )


class StoreForm(PlainTextMixin, forms.Form):
    village = forms.ChoiceField(label=gettext_lazy("Village or community"))
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    address = forms.CharField(label=gettext_lazy("Address"), max_length=200, required=False)
    hours = forms.CharField(label=gettext_lazy("Opening hours"), max_length=100, required=False)

    def __init__(self, *args, villages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].choices = [(v.code, v.name) for v in villages]


class GoodsForm(KeyedForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    unit = forms.CharField(label=gettext_lazy("Unit"), max_length=10, initial="件")
    price = forms.DecimalField(
        label=gettext_lazy("Price in points"),
        min_value=Decimal("0.01"),
        max_digits=10,
        decimal_places=2,
    )
    limit_per_household = forms.IntegerField(
        label=gettext_lazy("Limit per household and window"),
        min_value=1,
        max_value=999,
        required=False,
        help_text=gettext_lazy("Leave empty for no limit."),
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=300, required=False)
    position = forms.IntegerField(
        label=gettext_lazy("Order"), min_value=0, max_value=WHOLE_NUMBER_MAX, initial=0
    )
    active = forms.BooleanField(label=gettext_lazy("On offer"), required=False, initial=True)
    photo = forms.FileField(
        label=gettext_lazy("Photo"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/*"}),
    )


class StockInForm(KeyedForm):
    kind = forms.ChoiceField(
        label=gettext_lazy("From"),
        choices=[
            (StockKind.PURCHASE, gettext_lazy("purchase")),
            (StockKind.DONATION, gettext_lazy("donation")),
        ],
    )
    quantity = forms.IntegerField(label=gettext_lazy("Quantity"), min_value=1, max_value=100000)
    donor = forms.CharField(label=gettext_lazy("Donor"), max_length=100, required=False)
    thank_publicly = forms.BooleanField(
        label=gettext_lazy("Thank the donor by name on the public page"), required=False
    )
    unit_cost = forms.DecimalField(
        label=gettext_lazy("Unit cost (yuan)"),
        min_value=Decimal(0),
        max_digits=10,
        decimal_places=2,
        required=False,
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)


class AdjustForm(KeyedForm):
    quantity = forms.IntegerField(
        label=gettext_lazy("Change (+ found, − spoilt or lost)"),
        min_value=-100000,
        max_value=100000,
    )
    note = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


class WindowForm(PlainTextMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    starts_on = forms.DateField(
        label=gettext_lazy("From"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    ends_on = forms.DateField(
        label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class QuarterlyForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Year"), min_value=2000, max_value=2100)
    days = forms.IntegerField(
        label=gettext_lazy("First days of each quarter"), min_value=1, max_value=31, initial=7
    )
