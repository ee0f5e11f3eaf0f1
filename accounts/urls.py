from django.urls import path

from accounts import views

enterprise_urlpatterns = [
    path("", views.enterprise_home, name="home"),
    path("login/", views.enterprise_login, name="login"),
    path("logout/", views.sign_out, name="logout"),
]

member_urlpatterns = [
    path("", views.member_home, name="home"),
    path("login/", views.member_login, name="login"),
    path("login/code/", views.member_send_code, name="send_code"),
    path("logout/", views.sign_out, name="logout"),
]
