from django import forms
from django.contrib.auth import get_user_model

from shuangyong.lib.http import whole_number
from shuangyong.lib.idcard import IdNumberField, mask_bank_account, mask_id_number
from units.constants import UnitKind
from units.models import Unit

from .constants import (
    SERVICE_YEARS_CATEGORIES,
    SERVING_MEMBER_CATEGORIES,
    AccessKind,
    AwardLevel,
    Category,
    ChangeKind,
    DeathCause,
    DisabilityGrade,
    DisabilityNature,
    ServiceArea,
    Status,
)
from .selectors import is_full_id_number

# List and access-log filters

SMALL_SELECT = {"class": "form-select form-select-sm"}
CHECKBOX = {"class": "form-check-input"}
HARDSHIP_FIELDS = ["hardship_living", "hardship_housing", "hardship_medical"]


TOWNSHIP_SELECT_LIMIT = 150


class TownshipLookupField(forms.CharField):
    """A township typed by name or region-code prefix, for scopes too large for a select; cleans to a Unit in scope."""

    def __init__(self, *, queryset, **kwargs):
        super().__init__(**kwargs)
        self.queryset = queryset
        self._resolved = {}

    def resolve(self, text):
        text = (text or "").strip()
        if not text:
            return None
        if text not in self._resolved:
            try:
                self._resolved[text] = self._lookup(text)
            except forms.ValidationError as error:
                self._resolved[text] = error
        if isinstance(self._resolved[text], forms.ValidationError):
            raise self._resolved[text]
        return self._resolved[text]

    def _lookup(self, text):
        matches = (
            self.queryset.filter(region_code__startswith=text) if text.isdigit() else self.queryset.filter(name=text)
        )
        found = list(matches[:2])
        if not found:
            raise forms.ValidationError("所选乡镇（街道）不存在或不在您的管辖范围内。")
        if len(found) > 1:
            raise forms.ValidationError("有多个乡镇（街道）与之相符，请输入完整的名称或区划代码。")
        return found[0]

    def clean(self, value):
        return self.resolve(super().clean(value))


class BeneficiaryFilterForm(forms.Form):
    q = forms.CharField(
        label="搜索",
        required=False,
        max_length=50,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "class": "form-control form-control-sm",
                "placeholder": "姓名、拼音首字母、身份证号或后 4–6 位",
                "autocomplete": "off",
            }
        ),
    )
    township = forms.ModelChoiceField(
        label="乡镇（街道）",
        queryset=Unit.objects.none(),
        required=False,
        empty_label="全部乡镇（街道）",
        widget=forms.Select(attrs={**SMALL_SELECT, "data-autosubmit": "", "data-resets": "village"}),
    )
    village = forms.ModelChoiceField(
        label="村（社区）",
        queryset=Unit.objects.none(),
        required=False,
        empty_label="全部村（社区）",
        widget=forms.Select(attrs=SMALL_SELECT),
    )
    category = forms.ChoiceField(
        label="优抚类别",
        choices=[("", "全部类别"), *Category.choices],
        required=False,
        widget=forms.Select(SMALL_SELECT),
    )
    status = forms.ChoiceField(
        label="状态", choices=[("", "全部状态"), *Status.choices], required=False, widget=forms.Select(SMALL_SELECT)
    )
    grade = forms.TypedChoiceField(
        label="残疾等级",
        choices=[("", "全部等级"), *DisabilityGrade.choices],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.Select(SMALL_SELECT),
    )
    confirmed = forms.ChoiceField(
        label="年度确认",
        choices=[("", "年度确认：全部"), ("yes", "本年度已确认"), ("no", "本年度未确认")],
        required=False,
        widget=forms.Select(SMALL_SELECT),
    )
    hardship_living = forms.BooleanField(label="生活困难", required=False, widget=forms.CheckboxInput(CHECKBOX))
    hardship_housing = forms.BooleanField(label="住房困难", required=False, widget=forms.CheckboxInput(CHECKBOX))
    hardship_medical = forms.BooleanField(label="医疗困难", required=False, widget=forms.CheckboxInput(CHECKBOX))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        townships = Unit.objects.visible_to(user).filter(kind=UnitKind.TOWNSHIP).order_by("path")
        township_count = townships.count()
        # A province-wide select of every township costs more to render than the rows themselves.
        self.large_scope = township_count > TOWNSHIP_SELECT_LIMIT
        township = self.data.get("township", "") if self.is_bound else ""
        if self.large_scope:
            self.fields["township"] = TownshipLookupField(
                queryset=townships,
                label="乡镇（街道）",
                required=False,
                max_length=50,
                widget=forms.TextInput(
                    attrs={"class": "form-control form-control-sm", "placeholder": "乡镇名称或区划代码"}
                ),
            )
            try:
                chosen_township = self.fields["township"].resolve(township)
            except forms.ValidationError:
                chosen_township = None
            township = str(chosen_township.pk) if chosen_township else ""
        else:
            self.fields["township"].queryset = townships
            self.fields["township"].error_messages["invalid_choice"] = "所选乡镇（街道）不存在或不在您的管辖范围内。"
        villages = Unit.objects.visible_to(user).filter(kind=UnitKind.VILLAGE).order_by("path")
        township = whole_number(township)
        if township is not None:
            villages = villages.filter(parent_id=township)
        self.fields["village"].queryset = villages
        self.fields["village"].error_messages["invalid_choice"] = "所选村（社区）不在所选乡镇内，或不在您的管辖范围内。"
        # A county or wider scope offers villages once a township is chosen, to keep the page small.
        if township is None and township_count > 1:
            chosen = whole_number(self.data.get("village")) if self.is_bound else None
            options = [("", "请先选择乡镇（街道）")]
            if chosen is not None:
                options += [(v.pk, v.name) for v in villages.filter(pk=chosen)]
            self.fields["village"].widget.choices = options

    def clean_q(self):
        text = self.cleaned_data["q"].strip()
        digits = text[:-1] if text[-1:] in "xX" else text
        if text and digits.isdigit() and not (4 <= len(text) <= 6 or is_full_id_number(text)):
            raise forms.ValidationError("按身份证号查询请输入完整的 18 位号码，或最后 4–6 位。")
        return text

    def has_filters(self):
        return any(value not in (None, "", [], False) for value in self.filters().values())

    def filters(self):
        """Return the valid filters as keyword arguments of selectors.beneficiary_filter; invalid ones are left out."""
        if not self.is_bound:
            return {}
        self.is_valid()
        cleaned = self.cleaned_data
        return {
            "query": cleaned.get("q", ""),
            "township": cleaned.get("township"),
            "village": cleaned.get("village"),
            "category": cleaned.get("category", ""),
            "status": cleaned.get("status", ""),
            "grade": cleaned.get("grade"),
            "confirmed": cleaned.get("confirmed", ""),
            "hardships": [name for name in HARDSHIP_FIELDS if cleaned.get(name)],
        }


class AccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        profile = getattr(obj, "profile", None)
        name = profile.full_name if profile else ""
        return f"{name}（{obj.get_username()}）" if name else obj.get_username()


class AccessLogFilterForm(forms.Form):
    account = AccountChoiceField(
        label="查看人",
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="全部人员",
        widget=forms.Select(SMALL_SELECT),
    )
    kind = forms.ChoiceField(
        label="类型", choices=[("", "全部类型"), *AccessKind.choices], required=False, widget=forms.Select(SMALL_SELECT)
    )
    date_from = forms.DateField(
        label="起始日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
    )
    date_to = forms.DateField(
        label="截止日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
    )

    def __init__(self, *args, accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts
        self.fields["account"].error_messages["invalid_choice"] = "所选查看人不在访问记录中。"
        for name in ("date_from", "date_to"):
            self.fields[name].error_messages["invalid"] = f"{self.fields[name].label}格式不正确，请按 2025-01-31 填写。"

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", "截止日期不能早于起始日期。")
        return cleaned


# People, entitlements, 异动, transfers, annual confirmation

DATE_INPUT = {"type": "date"}


def _date_input(**attrs):
    return forms.DateInput(attrs={**DATE_INPUT, **attrs}, format="%Y-%m-%d")


def _date_field(label, *, required=True, help_text=""):
    field = forms.DateField(label=label, required=required, help_text=help_text, widget=_date_input())
    field.error_messages["invalid"] = f"{label}格式不正确，请按 2025-01-31 填写。"
    field.error_messages["required"] = f"请填写{label}。"
    return field


class VillageSelect(forms.Select):
    """A village select whose options name their township, so app.js can offer only the chosen township's villages."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-township"] = instance.parent_id
        return option


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class IdNumberLookupForm(forms.Form):
    id_number = IdNumberField(
        label="居民身份证号", help_text="先输入身份证号：已登记的对象会直接打开，避免重复登记。", max_length=30
    )


class PersonFieldsForm(forms.Form):
    """The person's own fields, shared by registration and edit."""

    name = forms.CharField(label="姓名", max_length=50)
    township = UnitChoiceField(label="乡镇（街道）", queryset=Unit.objects.none(), empty_label="请选择")
    village = UnitChoiceField(
        label="村（社区）",
        queryset=Unit.objects.none(),
        required=False,
        empty_label="（不指定）",
        widget=VillageSelect(attrs={"data-filter-by": "township"}),
    )
    phone = forms.CharField(label="联系电话", max_length=30, required=False)
    address = forms.CharField(label="住址", max_length=200, required=False)
    bank_name = forms.CharField(label="开户银行", max_length=100, required=False)
    bank_account = forms.CharField(
        label="银行账号", max_length=40, required=False, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    cadre = forms.CharField(label="包户责任人", max_length=50, required=False)
    hardship_living = forms.BooleanField(label="生活困难", required=False)
    hardship_housing = forms.BooleanField(label="住房困难", required=False)
    hardship_medical = forms.BooleanField(label="医疗困难", required=False)
    notes = forms.CharField(label="备注", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, townships, villages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["township"].queryset = townships
        self.fields["township"].error_messages["invalid_choice"] = "所选乡镇（街道）不在您的管辖范围内。"
        self.fields["village"].queryset = villages
        self.fields["village"].error_messages["invalid_choice"] = "所选村（社区）不在您的管辖范围内。"

    def clean(self):
        cleaned = super().clean()
        township, village = cleaned.get("township"), cleaned.get("village")
        if township and village and village.parent_id != township.pk:
            self.add_error("village", f"“{village.name}”不属于{township.name}。")
        return cleaned


ENTITLEMENT_FIELDS = [
    "category",
    "grade",
    "nature",
    "start_on",
    "end_on",
    "approval_document",
    "service_years",
    "serving_member_name",
    "enlistment_date",
    "service_area",
]
DISABLED_ONLY = {"data-show-when": f"category:{Category.DISABLED}"}
SERVICE_YEARS_ONLY = {"data-show-when": "category:" + ",".join(SERVICE_YEARS_CATEGORIES)}
SERVING_ONLY = {"data-show-when": "category:" + ",".join(SERVING_MEMBER_CATEGORIES)}


class EntitlementFieldsMixin(forms.Form):
    category = forms.ChoiceField(label="优抚类别", choices=[("", "请选择"), *Category.choices])
    grade = forms.TypedChoiceField(
        label="残疾等级",
        choices=[("", "—"), *DisabilityGrade.choices],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.Select(attrs=DISABLED_ONLY),
    )
    nature = forms.ChoiceField(
        label="残疾性质",
        choices=[("", "—"), *DisabilityNature.choices],
        required=False,
        widget=forms.Select(attrs=DISABLED_ONLY),
        help_text="因病致残仅一至六级享受残疾抚恤金。",
    )
    start_on = _date_field("享受起始日期")
    end_on = _date_field("享受终止日期", required=False, help_text="长期享受的不填。")
    approval_document = forms.CharField(label="批准文件", max_length=200, required=False)
    service_years = forms.IntegerField(
        label="义务兵役年数",
        min_value=1,
        max_value=30,
        required=False,
        widget=forms.NumberInput(attrs=SERVICE_YEARS_ONLY),
    )
    serving_member_name = forms.CharField(
        label="现役军人姓名", max_length=50, required=False, widget=forms.TextInput(attrs=SERVING_ONLY)
    )
    enlistment_date = forms.DateField(label="入伍日期", required=False, widget=_date_input(**SERVING_ONLY))
    service_area = forms.ChoiceField(
        label="服役地区",
        choices=[("", "—"), *ServiceArea.choices],
        required=False,
        widget=forms.Select(attrs=SERVING_ONLY),
    )

    def entitlement_data(self):
        return {name: self.cleaned_data.get(name) for name in ENTITLEMENT_FIELDS}


class BeneficiaryCreateForm(PersonFieldsForm, EntitlementFieldsMixin):
    id_number = IdNumberField(widget=forms.HiddenInput)
    effective_on = _date_field("登记（新增）日期")

    field_order = [
        "id_number",
        "name",
        "township",
        "village",
        *PersonFieldsForm.base_fields,
        "effective_on",
        *ENTITLEMENT_FIELDS,
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].help_text = "登记时填写一项优抚待遇；同时享受多项的，登记后在对象页面增加。"

    def person_data(self):
        data = dict(self.cleaned_data)
        for name in [*ENTITLEMENT_FIELDS, "effective_on"]:
            data.pop(name, None)
        return data


class BeneficiaryEditForm(PersonFieldsForm):
    """The edit form; the full ID number and bank account never go to the browser, so blank keeps them."""

    id_number = IdNumberField(label="更正身份证号", max_length=30, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    field_order = ["name", "id_number", "township", "village"]

    def __init__(self, *args, person, can_fix_id_number, **kwargs):
        super().__init__(*args, **kwargs)
        if can_fix_id_number:
            self.fields["id_number"].help_text = (
                f"当前：{mask_id_number(person.id_number)}。仅在号码录错时填写正确号码，留空则不修改；"
                "性别和出生日期随之更新。"
            )
        else:
            del self.fields["id_number"]
        current = mask_bank_account(person.bank_account) or "未填写"
        self.fields["bank_account"].help_text = f"当前：{current}。留空则不修改。"

    def changed_fields(self):
        """Return the cleaned fields to save, leaving out the ID number and bank account when left blank."""
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        for name in ("id_number", "bank_account"):
            if not data.get(name):
                data.pop(name, None)
        return data


class EntitlementForm(EntitlementFieldsMixin):
    document = forms.FileField(label="批准文件扫描件", required=False, help_text="PDF 或图片（JPEG/PNG）。")


class AwardForm(forms.Form):
    level = forms.ChoiceField(label="奖励等级", choices=[("", "请选择"), *AwardLevel.choices])
    awarded_on = _date_field("立功（受奖）日期")
    document = forms.CharField(label="批准文件", max_length=200, required=False)
    note = forms.CharField(label="备注", max_length=200, required=False)


class ChangeEventChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.effective_on:%Y-%m-%d} {obj.get_kind_display()}{('：' + obj.reason) if obj.reason else ''}"


class EntitlementChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj}（{obj.start_on:%Y-%m-%d} 起）"


class CountyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.parent.name}{obj.name}" if obj.parent_id else obj.name


class ChangeForm(forms.Form):
    """A 异动 form whose extra fields depend on the kind chosen before."""

    kind = forms.ChoiceField(choices=ChangeKind.choices, widget=forms.HiddenInput)
    effective_on = _date_field("生效日期")
    reason = forms.CharField(label="原因", max_length=300, required=False)
    document = forms.FileField(label="证明材料", required=False, help_text="PDF 或图片（JPEG/PNG）。")

    def __init__(self, *args, kind, entitlements=None, corrects=None, counties=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = {
            ChangeKind.CORRECTION: "更正原因",
            ChangeKind.REGRADE: "评定文件",
            ChangeKind.DEATH: "情况说明",
        }.get(kind, "原因")
        if kind in (ChangeKind.SUSPEND, ChangeKind.HOLD, ChangeKind.CANCEL, ChangeKind.CORRECTION):
            self.fields["reason"].required = True
            self.fields["reason"].error_messages["required"] = f"请填写{self.fields['reason'].label}。"
        if kind == ChangeKind.REGRADE:
            self.fields["entitlement"] = EntitlementChoiceField(
                label="调整的待遇", queryset=entitlements, empty_label=None
            )
            self.fields["new_grade"] = forms.TypedChoiceField(
                label="调整后等级", choices=[("", "请选择"), *DisabilityGrade.choices], coerce=int, empty_value=None
            )
            self.fields["new_nature"] = forms.ChoiceField(
                label="调整后性质",
                choices=[("", "（不变）"), *DisabilityNature.choices],
                required=False,
                help_text="因病致残七至十级不享受残疾抚恤金；距上次评定须满一年。",
            )
        if kind == ChangeKind.CONFIRM:
            self.fields["year"] = forms.IntegerField(label="确认年度", min_value=2000, max_value=2100)
        if kind == ChangeKind.DEATH:
            self.fields["death_cause"] = forms.ChoiceField(
                label="死亡原因",
                choices=[("", "请选择"), *DeathCause.choices],
                help_text="决定丧葬补助：残疾军人病故发12个月残疾抚恤金；因战因公致残者旧伤复发死亡按因公牺牲对待。",
                error_messages={"required": "请选择死亡原因。", "invalid_choice": "请选择死亡原因。"},
            )
        if kind == ChangeKind.CORRECTION:
            self.fields["corrects"] = ChangeEventChoiceField(
                label="更正的异动", queryset=corrects, empty_label="请选择"
            )
            self.fields["corrects"].help_text = "被更正的异动不再计入状态；异动本身保留，不会删除。"
        if kind == ChangeKind.TRANSFER_OUT:
            self.fields["to_county"] = CountyChoiceField(
                label="迁入县（区）",
                queryset=counties,
                required=False,
                empty_label="（迁往本系统以外的地区）",
                help_text="选择本系统内的县（区）后，由迁入地双拥办接收；本县当年发放至12月，迁入地自次年1月起发放。",
            )
        self.order_fields(
            [
                "kind",
                "corrects",
                "entitlement",
                "new_grade",
                "new_nature",
                "year",
                "to_county",
                "death_cause",
                "effective_on",
            ]
        )
        for name, field in self.fields.items():
            if name in ("entitlement", "corrects", "to_county"):
                field.error_messages["invalid_choice"] = f"所选{field.label}无效，请重新选择。"

    def service_data(self):
        data = dict(self.cleaned_data)
        data.pop("kind")
        return data


class TransferAcceptForm(forms.Form):
    township = UnitChoiceField(label="迁入乡镇（街道）", queryset=Unit.objects.none(), empty_label="请选择")
    village = UnitChoiceField(
        label="村（社区）",
        queryset=Unit.objects.none(),
        required=False,
        empty_label="（不指定）",
        widget=VillageSelect(attrs={"data-filter-by": "township"}),
    )
    effective_on = _date_field("迁入日期")

    def __init__(self, *args, county, **kwargs):
        super().__init__(*args, **kwargs)
        units = Unit.objects.filter(path__startswith=county.path, is_active=True).order_by("path")
        self.fields["township"].queryset = units.filter(kind=UnitKind.TOWNSHIP)
        self.fields["village"].queryset = units.filter(kind=UnitKind.VILLAGE)
        self.fields["township"].error_messages["invalid_choice"] = f"请选择{county.name}的乡镇（街道）。"
        self.fields["village"].error_messages["invalid_choice"] = f"请选择{county.name}的村（社区）。"

    def clean(self):
        cleaned = super().clean()
        township, village = cleaned.get("township"), cleaned.get("village")
        if township and village and village.parent_id != township.pk:
            self.add_error("village", f"“{village.name}”不属于{township.name}。")
        return cleaned


class ConfirmationRoundForm(forms.Form):
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100, widget=forms.HiddenInput)
    deadline = _date_field("截止日期", help_text="截止日期过后，可将未完成年度确认的在册对象统一停发。")
