from django import forms
from django.conf import settings
from django.forms import BaseFormSet, formset_factory
from django.urls import reverse

from beneficiaries.models import Beneficiary
from shuangyong.lib.http import whole_number
from shuangyong.lib.money import MoneyFormField
from shuangyong.lib.uploads import format_size
from units.constants import MILITARY_KINDS, UnitKind
from units.models import Pairing, Unit

from . import services
from .constants import COUNT_FIELDS, ActivityType, Occasion

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONEY_INPUT = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
COUNT_INPUT = forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"})
# Type-specific counts are laid out by hand in the form's grid, so they bring their own Bootstrap class.
COUNT_CLASS = "form-control"
PHOTO_ACCEPT = "image/jpeg,image/png"
PHOTOS_AT_ONCE = 20
PHOTO_HELP = f"JPEG 或 PNG，每张不超过 {format_size(settings.PHOTO_MAX_BYTES)}；手机上可直接拍照，可一次选多张。"
OUT_OF_SCOPE = services.OUT_OF_SCOPE
# Units that receive gifts: troops and partner forces first, then enterprises, schools, hospitals, organisations.
GIFT_UNIT_KINDS = [*MILITARY_KINDS, UnitKind.ENTERPRISE, UnitKind.SCHOOL, UnitKind.HOSPITAL, UnitKind.MASS_ORG]


def money_field(label, *, required=False):
    field = MoneyFormField(label=label, required=required, min_value=0, widget=MONEY_INPUT)
    field.error_messages["min_value"] = f"{label}不能为负数。"
    field.error_messages["required"] = f"请填写{label}。"
    return field


def count_field(label, **attrs):
    field = forms.IntegerField(
        label=label, required=False, min_value=0, widget=forms.NumberInput(attrs={**COUNT_INPUT.attrs, **attrs})
    )
    field.error_messages["min_value"] = f"{label}不能为负数。"
    field.error_messages["invalid"] = f"{label}应为整数。"
    return field


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; each is checked by the service (content, size), not here."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": PHOTO_ACCEPT, "multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        if not files and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        if len(files) > PHOTOS_AT_ONCE:
            raise forms.ValidationError(f"一次最多上传 {PHOTOS_AT_ONCE} 张照片。")
        return [super(MultipleFileField, self).clean(file, initial) for file in files]


class ActivityForm(forms.Form):
    unit = forms.ModelChoiceField(label="组织单位", queryset=Unit.objects.none(), empty_label=None)
    type = forms.ChoiceField(label="活动类型", choices=[("", "请选择"), *ActivityType.choices])
    occasion = forms.ChoiceField(label="时机", choices=Occasion.choices, required=False)
    start_date = forms.DateField(label="日期", widget=DATE_INPUT)
    end_date = forms.DateField(label="结束日期", widget=DATE_INPUT, required=False, help_text="一天内结束的留空。")
    title = forms.CharField(label="标题", max_length=100, help_text="如：八一走访慰问驻地部队和优抚对象")
    place = forms.CharField(label="地点", max_length=100, required=False)
    leaders = forms.CharField(label="参加领导", max_length=200, required=False, help_text="姓名和职务，用顿号分隔。")
    description = forms.CharField(label="活动内容", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    participants = count_field("参加人数")
    soldiers = count_field("官兵人数")
    reached = count_field("受益（慰问）人数")
    cost = money_field("活动经费（元）")
    military_units = forms.ModelMultipleChoiceField(
        label="参与部队", queryset=Unit.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    pairings = forms.ModelMultipleChoiceField(
        label="共建对子", queryset=Pairing.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    photos = MultipleFileField(label="照片", required=False, help_text=PHOTO_HELP)
    # The version of the activity the user loaded: a save by someone else since refuses this one.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        # Only units in the user's scope are choices, so a tampered id is refused like any missing choice.
        self.fields["unit"].queryset = units
        # Changing the unit swaps in its military units and pairings (htmx).
        self.fields["unit"].widget.attrs.update(
            {"hx-get": reverse("activities:unit_options"), "hx-target": "#unit-options", "hx-trigger": "change"}
        )
        messages = {
            "unit": {"required": "请选择组织单位。", "invalid_choice": OUT_OF_SCOPE},
            "type": {"required": "请选择活动类型。", "invalid_choice": "请从列表中选择活动类型。"},
            "occasion": {"invalid_choice": "请从列表中选择时机。"},
            "start_date": {"required": "请填写活动日期。", "invalid": "日期格式不正确，如 2026-07-28。"},
            "end_date": {"invalid": "结束日期格式不正确，如 2026-07-30。"},
            "title": {"required": "请填写标题。"},
            "military_units": {"invalid_choice": "所选部队不在本县（区）。", "invalid_pk_value": OUT_OF_SCOPE},
            "pairings": {"invalid_choice": "所选共建对子不属于该单位。", "invalid_pk_value": OUT_OF_SCOPE},
        }
        for name, errors in messages.items():
            self.fields[name].error_messages.update(errors)
        for name, (label, word, types) in COUNT_FIELDS.items():
            self.fields[name] = count_field(
                f"{label}（{word}）", **{"data-show-when": "type:" + ",".join(types), "class": COUNT_CLASS}
            )
        self.unit = self._chosen_unit(units)
        self.set_unit(self.unit)

    def clean(self):
        data = super().clean()
        if "start_date" in data and "end_date" in data:
            for field, messages in services.date_errors(data["start_date"], data["end_date"]).items():
                self.add_error(field, messages)
        return data

    def _chosen_unit(self, units):
        value = self.data.get(self.add_prefix("unit")) if self.is_bound else self.initial.get("unit")
        value = getattr(value, "pk", value)
        pk = whole_number(value)
        unit = units.filter(pk=pk).first() if pk is not None else None
        return unit or units.first()

    def set_unit(self, unit):
        """Offer the military units and pairings of the chosen unit."""
        if unit is None:
            return
        self.fields["military_units"].queryset = services.military_choices(unit)
        self.fields["pairings"].queryset = services.pairing_choices(unit)
        self.fields["pairings"].label_from_instance = lambda p: (
            f"{p.civil_unit.name} ↔ {p.military_unit.name}" + ("（已结束）" if p.ended_on else "")
        )

    def count_fields(self):
        return [self[name] for name in COUNT_FIELDS]

    def activity_fields(self):
        """Return the cleaned data as activity_create/activity_update keywords (without photos)."""
        data = dict(self.cleaned_data)
        data.pop("photos", None)
        data.pop("version", None)
        for name in ("participants", "soldiers", "reached", *COUNT_FIELDS):
            data[name] = data.get(name) or 0
        return data


class GiftForm(forms.Form):
    recipient_unit = forms.ModelChoiceField(
        label="受赠单位", queryset=Unit.objects.none(), required=False, empty_label="（不在列表中，填写名称）"
    )
    recipient_name = forms.CharField(label="或单位名称", max_length=100, required=False)
    money = money_field("慰问金（元）")
    goods = forms.CharField(label="物品", max_length=200, required=False)
    goods_value = money_field("物品折价（元）")

    def __init__(self, *args, units=None, **kwargs):
        super().__init__(*args, **kwargs)
        if units is not None:
            self.fields["recipient_unit"].queryset = units
        self.fields["recipient_unit"].error_messages["invalid_choice"] = OUT_OF_SCOPE

    def clean(self):
        data = super().clean()
        if not data.get("recipient_unit") and not (data.get("recipient_name") or "").strip():
            self.add_error("recipient_name", "请选择受赠单位或填写单位名称。")
        return data


class GroupForm(forms.Form):
    description = forms.CharField(label="慰问群体", max_length=100, help_text="如：军退干部、困难群众、驻地官兵")
    people = forms.IntegerField(label="人数", min_value=1, widget=COUNT_INPUT)
    money = money_field("慰问金（元）")
    goods = forms.CharField(label="物品", max_length=200, required=False)
    goods_value = money_field("物品折价（元）")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["description"].error_messages["required"] = "请填写慰问群体。"
        self.fields["people"].error_messages.update(
            {"required": "请填写人数。", "min_value": "人数应大于 0。", "invalid": "人数应为整数。"}
        )


class RecipientForm(forms.Form):
    beneficiary = forms.ModelChoiceField(
        label="慰问对象", queryset=Beneficiary.objects.none(), widget=forms.HiddenInput(attrs={"data-fill": "pk"})
    )
    amount = money_field("慰问金（元）")
    goods = forms.CharField(label="物品", max_length=200, required=False)
    goods_value = money_field("物品折价（元）")

    def __init__(self, *args, registry=None, **kwargs):
        super().__init__(*args, **kwargs)
        if registry is not None:
            self.fields["beneficiary"].queryset = registry
        self.fields["beneficiary"].error_messages.update(
            {"required": "请从名册中选择慰问对象。", "invalid_choice": "所选对象不在本县（区）优抚对象名册中。"}
        )


class RowFormSet(BaseFormSet):
    """A formset whose rows get their choices from the view, and give back the filled rows as dicts."""

    def __init__(self, *args, choices=None, **kwargs):
        self.choices = choices or {}
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), **self.choices}

    def rows(self):
        return [
            {k: v for k, v in form.cleaned_data.items() if k != "DELETE"}
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]


GiftFormSet = formset_factory(GiftForm, formset=RowFormSet, extra=0, can_delete=True, can_delete_extra=False)
GroupFormSet = formset_factory(GroupForm, formset=RowFormSet, extra=0, can_delete=True, can_delete_extra=False)
RecipientFormSet = formset_factory(RecipientForm, formset=RowFormSet, extra=0, can_delete=True, can_delete_extra=False)


def gift_units(user):
    """The units a gift row offers: those around the counties the user records for (the service checks the county)."""
    regions = services.home_regions(user)
    return Unit.objects.filter(services.around_q(regions), kind__in=GIFT_UNIT_KINDS, is_active=True).order_by(
        "-kind", "path"
    )


def registry(user):
    """The people a recipient row accepts: the registries of the counties the user records for."""
    return Beneficiary.objects.filter(services.within_q(services.home_regions(user), "township__path"))


class RecipientCorrectForm(forms.Form):
    amount = money_field("更正后金额（元）", required=True)
    reason = forms.CharField(label="更正原因", max_length=100, help_text="如：实发 800 元，登记时误填为 500 元。")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].error_messages["required"] = "请填写更正原因。"


class PhotoForm(forms.Form):
    photos = MultipleFileField(label="照片", help_text=PHOTO_HELP)
    caption = forms.CharField(label="说明", max_length=100, required=False, help_text="所有照片共用，可留空。")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["photos"].error_messages["required"] = "请选择要上传的照片。"
