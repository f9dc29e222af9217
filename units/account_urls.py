from django.urls import path

from . import account_views

app_name = "accounts"

urlpatterns = [
    path("profile/", account_views.profile, name="profile"),
    path("password/", account_views.password_change, name="password_change"),
    path("users/", account_views.account_list, name="list"),
    path("users/new/", account_views.account_create, name="create"),
    path("users/<int:pk>/", account_views.account_detail, name="detail"),
    path("users/<int:pk>/reset-password/", account_views.account_reset_password, name="reset_password"),
    path("users/<int:pk>/toggle-active/", account_views.account_toggle_active, name="toggle_active"),
    path("users/<int:pk>/reveal-permission/", account_views.account_set_reveal, name="set_reveal"),
]
