"""Input forms of the members pages. They only check shape; the services check the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import PayoutAccount


def _text(**attrs):
    return forms.TextInput(attrs=attrs)


class VerifyForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=40, widget=_text(autocomplete="name"))
    id_number = forms.CharField(label=_("身份证号"), max_length=30, widget=_text(autocomplete="off"))
    bank_card = forms.CharField(label=_("本人银行卡号（借记卡）"), max_length=40,
                                widget=_text(inputmode="numeric", autocomplete="cc-number"))
    bank_name = forms.CharField(label=_("开户银行（选填）"), max_length=100, required=False)
    consent = forms.BooleanField(label=_("我同意平台为实名认证向认证服务机构核验以上信息"),
                                 error_messages={"required": _("请先勾选同意核验个人信息")})


class SignForm(forms.Form):
    code = forms.CharField(label=_("短信验证码"), max_length=6,
                           widget=_text(inputmode="numeric", autocomplete="one-time-code"))
    consent = forms.BooleanField(label=_("我已完整阅读并同意以上《合作协议》"),
                                 error_messages={"required": _("请先勾选已阅读并同意协议")})


class PayoutAccountForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=PayoutAccount.Kind.choices)
    account = forms.CharField(label=_("账号（银行卡号 / 支付宝手机号或邮箱 / 微信 openid）"), max_length=80)
    bank_name = forms.CharField(label=_("开户银行（银行卡选填）"), max_length=100, required=False)
    make_default = forms.BooleanField(label=_("设为默认收款账户"), required=False)


class InviteForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=40)
    id_number = forms.CharField(label=_("身份证号"), max_length=30)
    phone = forms.CharField(label=_("手机号"), max_length=20, widget=_text(inputmode="tel"))


class UploadForm(forms.Form):
    file = forms.FileField(label=_("人员名单（.csv 或 .xlsx，不超过 2 MB）"))


class OfflineRegistrationForm(forms.Form):
    merchant = forms.ModelChoiceField(label=_("企业"), queryset=None)
    name = forms.CharField(label=_("姓名"), max_length=40)
    id_number = forms.CharField(label=_("身份证号"), max_length=30, help_text=_("运营人员已当面核验身份证原件"))
    phone = forms.CharField(label=_("手机号"), max_length=20)
    signed_on = forms.DateField(label=_("纸质合同签署日期"), widget=forms.DateInput(attrs={"type": "date"}))
    contract = forms.FileField(label=_("纸质合同扫描件（PDF/JPG/PNG，不超过 10 MB）"))

    def __init__(self, *args, **kwargs):
        from merchants.models import Merchant

        super().__init__(*args, **kwargs)
        self.fields["merchant"].queryset = Merchant.objects.order_by("name", "id")


class TerminateForm(forms.Form):
    """解约: the reason is required (both sides see it); the services check what is still open."""

    reason = forms.CharField(label=_("解约原因"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
                             error_messages={"required": _("请填写解约原因")})
