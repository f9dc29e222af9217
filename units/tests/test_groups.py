import datetime
import io
import threading
import time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from pypdf import PdfReader

from units import services
from units.constants import GroupRole
from units.models import GroupMember, LeadingGroup

TODAY = datetime.date(2025, 6, 15)


@pytest.fixture
def frozen_today():
    with time_machine.travel(datetime.datetime(2025, 6, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield TODAY


@pytest.fixture
def chen(group):
    return group.members.get(name="陈书记")


@pytest.fixture
def bureau_group(bureau):
    group = LeadingGroup.objects.create(unit=bureau)
    GroupMember.objects.create(
        group=group, name="钱局长", job_title="局长", role=GroupRole.LEADER, start_on=datetime.date(2024, 1, 1)
    )
    return group


def roster_names(response):
    return [member.name for member in response.context["roster"]]


def group_url(name, unit_id, *args):
    return reverse(f"units:{name}", args=[unit_id, *args])


def test_it_shows_the_replaced_person_on_a_past_date_and_the_successor_today(client, office, group, chen, frozen_today):
    client.force_login(office)

    response = client.post(
        group_url("group_member_adjust", group.unit_id, chen.pk),
        {"end_on": "2025-06-14", "name": "李书记", "job_title": "党委书记", "role": GroupRole.LEADER, "start_on": ""},
    )

    assert response.status_code == 302
    today = client.get(group_url("group", group.unit_id))
    assert roster_names(today) == ["李书记", "周镇长"]
    assert "2025年6月15日的组成人员" in today.content.decode()
    yesterday = client.get(group_url("group", group.unit_id), {"on": "2025-06-14"})
    assert roster_names(yesterday) == ["陈书记", "周镇长"]
    assert "2025年6月14日的组成人员" in yesterday.content.decode()
    chen.refresh_from_db()
    assert chen.end_on == datetime.date(2025, 6, 14)
    assert group.members.get(name="李书记").start_on == TODAY


def test_it_moves_the_same_person_to_another_role_in_one_step(group, chen):
    zhou = group.members.get(name="周镇长")
    services.group_member_end(member=chen, end_on=datetime.date(2025, 2, 28))

    services.group_member_replace(
        member=zhou,
        end_on=datetime.date(2025, 2, 28),
        name="周镇长",
        job_title="党委书记",
        role=GroupRole.LEADER,
        start_on=datetime.date(2025, 3, 1),
    )

    roster = {m.name: m.get_role_display() for m in GroupMember.objects.on(datetime.date(2025, 3, 1))}
    assert roster == {"周镇长": "组长"}
    assert GroupMember.objects.filter(name="周镇长").count() == 2


def test_it_refuses_a_second_leader_and_changes_nothing(client, office, group):
    client.force_login(office)
    before = list(GroupMember.objects.values_list("pk", "name", "role", "start_on", "end_on"))

    response = client.post(
        group_url("group_member_add", group.unit_id),
        {"name": "王书记", "job_title": "党委副书记", "role": GroupRole.LEADER, "start_on": "2025-03-01"},
    )

    assert response.status_code == 200
    assert "2025-03-01 起已有组长：陈书记，请先办理调整" in response.content.decode()
    assert list(GroupMember.objects.values_list("pk", "name", "role", "start_on", "end_on")) == before


def test_it_names_the_date_a_clash_begins(group):
    with pytest.raises(ValidationError) as error:
        services.group_member_add(
            group=group, name="王书记", job_title="党委书记", role=GroupRole.LEADER, start_on=datetime.date(2023, 1, 1)
        )

    assert error.value.message_dict["role"] == ["2024-01-01 起已有组长：陈书记，请先办理调整。"]
    assert not GroupMember.objects.filter(name="王书记").exists()


def test_it_allows_a_leader_for_a_period_that_does_not_overlap(group):
    services.group_member_add(
        group=group,
        name="前任书记",
        job_title="党委书记",
        role=GroupRole.LEADER,
        start_on=datetime.date(2022, 1, 1),
        end_on=datetime.date(2023, 12, 31),
    )
    services.group_member_add(
        group=group, name="吴委员", job_title="武装部长", role=GroupRole.DEPUTY, start_on=datetime.date(2024, 1, 1)
    )
    services.group_member_add(
        group=group, name="郑委员", job_title="宣传委员", role=GroupRole.DEPUTY, start_on=datetime.date(2024, 1, 1)
    )

    assert [m.name for m in GroupMember.objects.on(datetime.date(2023, 6, 1))] == ["前任书记"]
    assert GroupMember.objects.on(datetime.date(2024, 6, 1)).filter(role=GroupRole.DEPUTY).count() == 2


def test_it_refuses_an_end_before_the_start(client, office, group, chen):
    client.force_login(office)

    response = client.post(
        group_url("group_member_add", group.unit_id),
        {
            "name": "吴委员",
            "job_title": "武装部长",
            "role": GroupRole.MEMBER,
            "start_on": "2025-03-01",
            "end_on": "2025-02-01",
        },
    )
    assert response.status_code == 200
    assert "终止日期（2025-02-01）不能早于起始日期（2025-03-01）" in response.content.decode()
    assert not GroupMember.objects.filter(name="吴委员").exists()

    response = client.post(group_url("group_member_end", group.unit_id, chen.pk), {"end_on": "2023-12-31"})
    assert "终止日期（2023-12-31）不能早于起始日期（2024-01-01）" in response.content.decode()
    chen.refresh_from_db()
    assert chen.end_on is None


@pytest.mark.parametrize(
    ("start_on", "message"),
    [
        (datetime.date(2025, 2, 28), "接任日期（2025-02-28）不能早于原成员终止日期（2025-03-01）。"),
        (datetime.date(2025, 3, 1), "组长同一时间只能一人担任，接任日期应在 2025-03-01 之后。"),
    ],
)
def test_it_refuses_a_successor_leader_starting_before_the_next_day(group, chen, start_on, message):
    with pytest.raises(ValidationError) as error:
        services.group_member_replace(
            member=chen,
            end_on=datetime.date(2025, 3, 1),
            name="李书记",
            job_title="党委书记",
            role=GroupRole.LEADER,
            start_on=start_on,
        )

    assert error.value.message_dict["start_on"] == [message]
    chen.refresh_from_db()
    assert chen.end_on is None
    assert not GroupMember.objects.filter(name="李书记").exists()


def test_it_starts_a_member_on_the_day_the_predecessor_leaves(group):
    zhou = group.members.get(name="周镇长")

    services.group_member_replace(
        member=zhou,
        end_on=datetime.date(2025, 3, 1),
        name="孙镇长",
        job_title="镇长",
        role=GroupRole.DEPUTY,
        start_on=datetime.date(2025, 3, 1),
    )

    assert {m.name for m in GroupMember.objects.on(datetime.date(2025, 3, 1))} == {"陈书记", "周镇长", "孙镇长"}
    assert {m.name for m in GroupMember.objects.on(datetime.date(2025, 3, 2))} == {"陈书记", "孙镇长"}


def test_it_ends_a_membership(client, office, group, chen):
    client.force_login(office)
    form = client.get(group_url("group_member_end", group.unit_id, chen.pk)).content.decode()
    assert 'data-confirm="确定终止陈书记的组长任职？"' in form

    response = client.post(group_url("group_member_end", group.unit_id, chen.pk), {"end_on": "2025-04-30"})

    assert response.status_code == 302
    chen.refresh_from_db()
    assert chen.end_on == datetime.date(2025, 4, 30)
    page = client.get(group_url("group", group.unit_id), {"on": "2025-05-01"})
    assert roster_names(page) == ["周镇长"]


def test_it_shows_a_message_for_a_bad_date_and_today_s_roster(client, leader, group, chen, frozen_today):
    services.group_member_end(member=chen, end_on=datetime.date(2025, 1, 31))
    client.force_login(leader)

    response = client.get(group_url("group", group.unit_id), {"on": "2025-13-45"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "查询日期格式应为 YYYY-MM-DD" in page
    assert "2025年6月15日的组成人员" in page
    assert roster_names(response) == ["周镇长"]


def test_office_sets_up_a_group_for_a_unit_without_one(client, office, village):
    client.force_login(office)
    assert "建立领导小组" in client.get(group_url("group", village.pk)).content.decode()

    response = client.post(
        group_url("group_create", village.pk), {"name": "", "office_note": "领导小组下设办公室，办公室设在村委会"}
    )

    assert response.status_code == 200  # name is required on the form
    response = client.post(
        group_url("group_create", village.pk),
        {"name": "双拥工作领导小组", "office_note": "领导小组下设办公室，办公室设在村委会"},
    )
    assert response.status_code == 302
    group = LeadingGroup.objects.get(unit=village)
    assert group.office_note == "领导小组下设办公室，办公室设在村委会"
    client.post(group_url("group_edit", village.pk), {"name": "双拥工作领导小组", "office_note": "办公室设在村部"})
    group.refresh_from_db()
    assert group.office_note == "办公室设在村部"


def test_liaison_adjusts_the_own_township_group(client, liaison, group, chen):
    client.force_login(liaison)
    page = client.get(group_url("group", group.unit_id)).content.decode()
    assert "调整" in page and "添加成员" in page

    response = client.post(
        group_url("group_member_adjust", group.unit_id, chen.pk),
        {"end_on": "2025-03-31", "name": "李书记", "job_title": "党委书记", "role": GroupRole.LEADER},
    )

    assert response.status_code == 302
    assert [m.name for m in GroupMember.objects.on(datetime.date(2025, 4, 1)).filter(role=GroupRole.LEADER)] == [
        "李书记"
    ]


def test_liaison_gets_404_for_the_bureau_group(client, liaison, bureau_group):
    client.force_login(liaison)
    qian = bureau_group.members.get()
    unit_id = bureau_group.unit_id

    assert client.get(group_url("group", unit_id)).status_code == 404
    assert client.get(group_url("group_pdf", unit_id)).status_code == 404
    response = client.post(
        group_url("group_member_adjust", unit_id, qian.pk),
        {"end_on": "2025-03-31", "name": "假局长", "job_title": "局长", "role": GroupRole.LEADER},
    )
    assert response.status_code == 404
    assert client.post(group_url("group_member_end", unit_id, qian.pk), {"end_on": "2025-03-31"}).status_code == 404
    qian.refresh_from_db()
    assert qian.end_on is None
    assert not GroupMember.objects.filter(name="假局长").exists()


def test_liaison_cannot_reach_another_group_through_the_own_unit_url(client, liaison, group, bureau_group):
    client.force_login(liaison)
    qian = bureau_group.members.get()

    response = client.post(group_url("group_member_end", group.unit_id, qian.pk), {"end_on": "2025-03-31"})

    assert response.status_code == 404
    qian.refresh_from_db()
    assert qian.end_on is None


def test_leader_reads_the_group_without_edit_buttons(client, leader, group):
    client.force_login(leader)

    page = client.get(group_url("group", group.unit_id)).content.decode()

    assert "陈书记" in page
    assert "添加成员" not in page
    assert "调整</a>" not in page


def test_leader_gets_404_on_every_post(client, leader, group, chen, village):
    client.force_login(leader)
    member = {"name": "王书记", "job_title": "书记", "role": GroupRole.MEMBER, "start_on": "2025-03-01"}
    posts = [
        (group_url("group_member_add", group.unit_id), member),
        (group_url("group_member_adjust", group.unit_id, chen.pk), {**member, "end_on": "2025-02-28"}),
        (group_url("group_member_end", group.unit_id, chen.pk), {"end_on": "2025-02-28"}),
        (group_url("group_edit", group.unit_id), {"name": "改名", "office_note": ""}),
        (group_url("group_create", village.pk), {"name": "双拥工作领导小组", "office_note": ""}),
    ]

    for url, data in posts:
        assert client.post(url, data).status_code == 404, url

    chen.refresh_from_db()
    assert chen.end_on is None
    assert GroupMember.objects.count() == 2
    assert LeadingGroup.objects.count() == 1
    assert LeadingGroup.objects.get().name == "双拥工作领导小组"


def test_outsider_gets_404_on_the_group_page_and_pdf(client, outsider, group, chen):
    client.force_login(outsider)

    assert client.get(group_url("group", group.unit_id)).status_code == 404
    assert client.get(group_url("group_pdf", group.unit_id)).status_code == 404
    assert client.get(group_url("group_member_adjust", group.unit_id, chen.pk)).status_code == 404


def test_the_pdf_lists_the_members_by_role(client, leader, group):
    group.office_note = "办公室设在镇武装部"
    group.save()
    services.group_member_add(
        group=group, name="吴部长", job_title="武装部部长", role=GroupRole.DEPUTY, start_on=datetime.date(2024, 1, 1)
    )
    services.group_member_add(
        group=group, name="郑委员", job_title="宣传委员", role=GroupRole.MEMBER, start_on=datetime.date(2024, 1, 1)
    )
    client.force_login(leader)

    response = client.get(group_url("group_pdf", group.unit_id), {"on": "2025-03-01"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    flat = "".join(text.split())
    assert "关于调整溧东镇双拥工作领导小组成员的通知" in flat
    assert "决定对溧东镇双拥工作领导小组成员进行调整" in flat
    for line in (
        "组长：陈书记（党委书记）",
        "第一副组长：周镇长（镇长）",
        "副组长：吴部长（武装部部长）",
        "成员：郑委员（宣传委员）",
    ):
        assert line in flat
    assert (
        flat.index("组长：陈书记")
        < flat.index("第一副组长")
        < flat.index("副组长：吴部长")
        < flat.index("成员：郑委员")
    )
    assert "领导小组下设办公室，办公室设在镇武装部。" in flat
    assert "2025年3月1日" in flat


def test_the_pdf_answers_a_bad_date_with_a_message(client, office, group):
    client.force_login(office)

    response = client.get(group_url("group_pdf", group.unit_id), {"on": "明天"}, follow=True)

    assert "查询日期格式应为 YYYY-MM-DD" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_adds_leave_exactly_one_leader(township, monkeypatch):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite 不支持行锁，此并发测试在 PostgreSQL 上运行。")
    group = LeadingGroup.objects.create(unit=township)
    check = services._check_single_holder

    def slow_check(**kwargs):
        check(**kwargs)
        time.sleep(0.3)  # widen the window between the check and the insert

    monkeypatch.setattr(services, "_check_single_holder", slow_check)
    barrier = threading.Barrier(2)
    errors = []

    def add(name):
        try:
            barrier.wait()
            services.group_member_add(
                group=group, name=name, job_title="党委书记", role=GroupRole.LEADER, start_on=datetime.date(2025, 1, 1)
            )
        except ValidationError as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(name,)) for name in ("甲书记", "乙书记")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert GroupMember.objects.filter(group=group, role=GroupRole.LEADER).count() == 1
    assert len(errors) == 1
    assert "已有组长" in errors[0].message_dict["role"][0]
