"""Portal forms: they collect input only; the services check and save it."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from merchants.models import Industry

MAX_UPLOAD = 5 * 1024 * 1024


class ApplyStartForm(forms.Form):
    company_name = forms.CharField(label=_("企业名称（与营业执照一致）"), max_length=200)
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=30)
    full_name = forms.CharField(label=_("您的姓名"), max_length=50)
    phone = forms.CharField(label=_("您的手机号（用于签署验证码）"), max_length=20,
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))
    username = forms.CharField(label=_("设置登录名"), max_length=150)
    password = forms.CharField(label=_("设置密码（至少 10 位，不能全为数字）"), widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("再次输入密码"), widget=forms.PasswordInput)
    agree = forms.BooleanField(label=_("我已阅读《操作指南》并同意平台处理本次申请所需的信息"))

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致"))
        return data


class CompanyForm(forms.Form):
    company_name = forms.CharField(label=_("企业名称"), max_length=200)
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=30)
    registered_address = forms.CharField(label=_("注册地址"), max_length=300, required=False)
    legal_rep_name = forms.CharField(label=_("法定代表人姓名"), max_length=50, required=False)
    legal_rep_id_number = forms.CharField(label=_("法定代表人身份证号"), max_length=30, required=False)
    contact_name = forms.CharField(label=_("联系人姓名"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系人手机号"), max_length=20, required=False)
    contact_email = forms.EmailField(label=_("联系人邮箱"), required=False)


class BusinessForm(forms.Form):
    industry = forms.ChoiceField(label=_("所属行业"), choices=[("", "—")] + list(Industry.choices), required=False)
    business_scenario = forms.CharField(
        label=_("业务场景：灵工人员将为贵司完成什么工作"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("例如：同城即时配送，骑手按单完成取送货，按单结算。这是业务真实性审核的依据。"))
    expected_monthly_volume = forms.CharField(label=_("预计月发放金额（元）"), max_length=20, required=False)
    expected_monthly_workers = forms.IntegerField(label=_("预计月用工人数"), min_value=1, required=False)


class LicenceForm(forms.Form):
    file = forms.FileField(label=_("营业执照（JPG、PNG 或 PDF，不超过 5 MB）"))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000)


class SignForm(forms.Form):
    code = forms.CharField(label=_("短信验证码"), max_length=6,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))
    agree = forms.BooleanField(label=_("我已完整阅读并同意《共享经济综合服务协议》，代表本企业签署"))


class TermsAmendmentSignForm(SignForm):
    agree = forms.BooleanField(label=_("我已完整阅读并同意《共享经济综合服务协议补充协议》，代表本企业签署"))


class ChangeForm(forms.Form):
    company_name = forms.CharField(label=_("企业名称"), max_length=200, required=False)
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=30, required=False)
    registered_address = forms.CharField(label=_("注册地址"), max_length=300, required=False)
    legal_rep_name = forms.CharField(label=_("法定代表人姓名"), max_length=50, required=False)
    legal_rep_id_number = forms.CharField(label=_("法定代表人身份证号"), max_length=30, required=False)
    contact_name = forms.CharField(label=_("联系人姓名"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系人手机号"), max_length=20, required=False)
    contact_email = forms.EmailField(label=_("联系人邮箱"), required=False)
    industry = forms.ChoiceField(label=_("所属行业"), choices=[("", _("（不变）"))] + list(Industry.choices), required=False)
    business_scenario = forms.CharField(label=_("业务场景"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    reason = forms.CharField(label=_("变更原因"), widget=forms.Textarea(attrs={"rows": 2}))


class InviteForm(forms.Form):
    role = forms.ChoiceField(label=_("角色"), choices=[(Role.ENT_FINANCE, _("企业财务")),
                                                      (Role.ENT_OPERATOR, _("企业经办人"))])
    full_name = forms.CharField(label=_("姓名"), max_length=50, required=False)
    phone = forms.CharField(label=_("手机号"), max_length=20, required=False)
    email = forms.EmailField(label=_("邮箱"), required=False)


class AcceptInvitationForm(forms.Form):
    username = forms.CharField(label=_("设置登录名"), max_length=150)
    password = forms.CharField(label=_("设置密码（至少 10 位）"), widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("再次输入密码"), widget=forms.PasswordInput)

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致"))
        return data


class ApiKeyForm(forms.Form):
    label = forms.CharField(label=_("用途说明"), max_length=100, required=False)
