from django import forms
from django.utils.translation import gettext_lazy as _


class StaffLoginForm(forms.Form):
    username = forms.CharField(label=_("登录名"), max_length=150)
    password = forms.CharField(label=_("密码"), widget=forms.PasswordInput)
    otp_token = forms.CharField(label=_("动态口令（已绑定时必填）"), max_length=8, required=False,
                                widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))


class PhoneForm(forms.Form):
    phone = forms.CharField(label=_("手机号"), max_length=20,
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))


class SmsLoginForm(PhoneForm):
    code = forms.CharField(label=_("短信验证码"), max_length=6,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))
