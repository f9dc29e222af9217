from django.urls import path

from . import payment_views, recovery_views, standard_views

app_name = "payments"

urlpatterns = [
    # standards
    path("standards/", standard_views.standard_list, name="standards"),
    path("standards/new/", standard_views.standard_add, name="standard_add"),
    path("standards/<int:pk>/raise/", standard_views.standard_raise, name="standard_raise"),
    path("standards/<int:pk>/backpay/", standard_views.backpay_add, name="backpay_add"),
    # one-off payments to a person
    path("people/<int:pk>/one-off/", standard_views.one_off_add, name="one_off_add"),
    # batches
    path("batches/", payment_views.batch_list, name="batches"),
    path("batches/new/", payment_views.batch_add, name="batch_add"),
    path("batches/<int:pk>/", payment_views.batch_detail, name="batch"),
    path("batches/<int:pk>/generate/", payment_views.batch_generate, name="batch_generate"),
    path("batches/<int:pk>/approve/", payment_views.batch_approve, name="batch_approve"),
    path("batches/<int:pk>/paid/", payment_views.batch_paid, name="batch_paid"),
    path("batches/<int:pk>/bank-file/", payment_views.batch_bank_file, name="batch_bank_file"),
    path("batches/<int:pk>/sign-sheet/", payment_views.batch_sign_sheet, name="batch_sign_sheet"),
    path("<int:pk>/return/", payment_views.payment_return, name="payment_return"),
    # ledger and yearly summary
    path("ledger/", payment_views.ledger, name="ledger"),
    path("summary/", payment_views.yearly_summary, name="summary"),
    # deaths, overpayments, recoveries, history import
    path("changes/<int:pk>/settle/", recovery_views.death_settle, name="death_settle"),
    path("recoveries/", recovery_views.recovery_list, name="recoveries"),
    path("recoveries/<int:pk>/", recovery_views.recovery_settle, name="recovery"),
    path("death-check/", recovery_views.death_check, name="death_check"),
    path("import/", recovery_views.payment_import, name="import"),
    path("import/template/", recovery_views.payment_import_template, name="import_template"),
]
