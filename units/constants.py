from django.db import models


class UnitKind(models.TextChoices):
    PROVINCE = "province", "省"
    CITY = "city", "市"
    COUNTY = "county", "县/区"
    TOWNSHIP = "township", "乡镇/街道"
    VILLAGE = "village", "村/社区"
    DEPARTMENT = "department", "机关部门"
    MASS_ORG = "mass_org", "群团组织"
    ENTERPRISE = "enterprise", "企事业单位"
    SCHOOL = "school", "学校"
    HOSPITAL = "hospital", "医院"
    MILITARY = "military", "驻地部队"
    PARTNER_FORCE = "partner_force", "消防救援等共建力量"


REGION_KINDS = [UnitKind.PROVINCE, UnitKind.CITY, UnitKind.COUNTY, UnitKind.TOWNSHIP, UnitKind.VILLAGE]
MILITARY_KINDS = [UnitKind.MILITARY, UnitKind.PARTNER_FORCE]
CIVIL_KINDS = [kind for kind in UnitKind if kind not in MILITARY_KINDS]

# Which kinds of parent each region kind may have; other kinds hang under any region.
REGION_PARENTS = {
    UnitKind.PROVINCE: [],
    UnitKind.CITY: [UnitKind.PROVINCE],
    UnitKind.COUNTY: [UnitKind.PROVINCE, UnitKind.CITY],
    UnitKind.TOWNSHIP: [UnitKind.COUNTY],
    UnitKind.VILLAGE: [UnitKind.TOWNSHIP],
}
TOP_KINDS = [UnitKind.PROVINCE, UnitKind.CITY, UnitKind.COUNTY]


class Role(models.TextChoices):
    OFFICE = "office", "双拥办工作人员"
    LIAISON = "liaison", "单位联络员"
    LEADER = "leader", "领导"


class GroupRole(models.TextChoices):
    LEADER = "leader", "组长"
    FIRST_DEPUTY = "first_deputy", "第一副组长"
    DEPUTY = "deputy", "副组长"
    MEMBER = "member", "成员"
    LIAISON = "liaison", "联络员"
    OFFICE_DIRECTOR = "office_director", "办公室主任"


# Roles that one person at a time may hold in a group.
SINGLE_HOLDER_ROLES = [GroupRole.LEADER, GroupRole.FIRST_DEPUTY, GroupRole.OFFICE_DIRECTOR]
GROUP_ROLE_ORDER = [role.value for role in GroupRole]


class AuditAction(models.TextChoices):
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    LOGOUT = "logout", "退出"
    LOCKED_OUT = "locked_out", "账号锁定"
    ACCOUNT_CREATED = "account_created", "创建账号"
    PASSWORD_RESET = "password_reset", "重置密码"
    PASSWORD_CHANGED = "password_changed", "修改密码"
    ACCOUNT_DEACTIVATED = "account_deactivated", "停用账号"
    ACCOUNT_ACTIVATED = "account_activated", "启用账号"


class JobStatus(models.TextChoices):
    PENDING = "pending", "排队中"
    RUNNING = "running", "进行中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"
