from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Agreement, AuditEvent, GroupMember, Job, LeadingGroup, Membership, Pairing, Unit, UserProfile


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "region_code", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "region_code"]
    raw_id_fields = ["parent"]
    readonly_fields = ["path", "depth"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "unit", "role", "is_director"]
    list_filter = ["role", "is_director"]
    search_fields = ["user__username", "unit__name"]
    raw_id_fields = ["user", "unit"]


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "full_name", "phone", "must_change_password"]
    search_fields = ["user__username", "full_name"]


class GroupMemberInline(admin.TabularInline):
    model = GroupMember
    extra = 0


@admin.register(LeadingGroup)
class LeadingGroupAdmin(SimpleHistoryAdmin):
    list_display = ["unit", "name"]
    search_fields = ["unit__name"]
    raw_id_fields = ["unit"]
    inlines = [GroupMemberInline]


@admin.register(Pairing)
class PairingAdmin(SimpleHistoryAdmin):
    list_display = ["civil_unit", "military_unit", "signed_on", "ended_on"]
    raw_id_fields = ["civil_unit", "military_unit"]


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = ["pairing", "signed_on", "original_name", "uploaded_by", "uploaded_at"]
    raw_id_fields = ["pairing"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "username", "ip_address", "actor", "detail"]
    list_filter = ["action"]
    search_fields = ["username"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["pk", "kind", "status", "done", "total", "created_by", "created_at"]
    list_filter = ["kind", "status"]
