from django.contrib import admin

from .models import Beneficiary, Standard


@admin.register(Beneficiary)
class BeneficiaryAdmin(admin.ModelAdmin):
    """Read-only: people change only through the registry's services, which keep 异动 and history."""

    list_display = ["name", "sex", "birth_date", "township", "village", "status", "confirmed_year"]
    list_filter = ["status"]
    list_select_related = ["township", "village"]
    list_per_page = 50
    search_fields = ["name", "=id_number"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Standard)
class StandardAdmin(admin.ModelAdmin):
    """Read-only: standards change through the standards page, which refuses overlaps and keeps raises linked."""

    list_display = [
        "kind",
        "category",
        "grade",
        "nature",
        "variant",
        "amount",
        "unit",
        "effective_from",
        "effective_to",
    ]
    list_filter = ["kind", "category"]
    list_select_related = ["unit"]
    list_per_page = 50

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
