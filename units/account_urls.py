from django.urls import path

from . import account_views

app_name = "accounts"

urlpatterns = [
    path("profile/", account_views.profile, name="profile"),
    path("password/", account_views.password_change, name="password_change"),
]
