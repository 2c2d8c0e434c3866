"""The team: 30 agents with the service roles they hold, the demo logins, and a week's roster.

Shifts are planned in shop-local time (早班 08-16, 晚班 16-24, 夜班 00-08) and stored in UTC.
Every day covers all six roles, a refund reviewer works every night (seeds/003: a refund at
23:00 cannot wait for finance), and one designated chaser (催付) works each day, so that
several agents never chase the same buyer.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from csdesk.actions.agents import ShiftSpec
from csdesk.seed.people import chat_name
from csdesk.seed.timeline import local_at
from csdesk.storage.enums import ServiceRole, UserRole

DEMO_PASSWORD = "csdesk-demo"

PRESALES = ServiceRole.PRESALES
ORDER_REVIEW = ServiceRole.ORDER_REVIEW
PAYMENT_CHASING = ServiceRole.PAYMENT_CHASING
AFTERSALES_TRIAGE = ServiceRole.AFTERSALES_TRIAGE
REFUND = ServiceRole.REFUND
HOTLINE = ServiceRole.HOTLINE

REFUND_REVIEW = "review"
REFUND_PROCESSING = "processing"
DESIGNATED_CHASER = "designated_chaser"

# (service roles, skills) of the 30 regular agents: specialists plus a few who hold two
# roles, so duties can be covered when someone is off.
_AGENT_ROLES: tuple[tuple[tuple[ServiceRole, ...], tuple[str, ...]], ...] = (
    ((PRESALES,), ("vip", "large_appliance")),
    ((PRESALES,), ("large_appliance",)),
    ((PRESALES,), ("english",)),
    ((PRESALES,), ()),
    ((PRESALES,), ()),
    ((PRESALES,), ("vip",)),
    ((PRESALES,), ()),
    ((PRESALES,), ()),
    ((PRESALES, PAYMENT_CHASING), ()),
    ((PRESALES, PAYMENT_CHASING), ("large_appliance",)),
    ((PAYMENT_CHASING,), ()),
    ((ORDER_REVIEW,), ("large_appliance",)),
    ((ORDER_REVIEW,), ()),
    ((ORDER_REVIEW, PRESALES), ()),
    ((AFTERSALES_TRIAGE,), ("vip",)),
    ((AFTERSALES_TRIAGE,), ("large_appliance",)),
    ((AFTERSALES_TRIAGE,), ("english",)),
    ((AFTERSALES_TRIAGE,), ()),
    ((AFTERSALES_TRIAGE,), ()),
    ((AFTERSALES_TRIAGE, HOTLINE), ()),
    ((REFUND,), ("vip",)),
    ((REFUND,), ()),
    ((REFUND,), ()),
    ((REFUND,), ()),
    ((REFUND,), ()),
    ((REFUND, AFTERSALES_TRIAGE), ()),
    ((HOTLINE,), ("vip", "large_appliance")),
    ((HOTLINE,), ()),
    ((HOTLINE,), ()),
    ((HOTLINE, PAYMENT_CHASING), ()),
)


@dataclass(frozen=True)
class StaffMember:
    username: str
    role: UserRole
    display_name: str
    service_roles: tuple[ServiceRole, ...] = ()
    skills: tuple[str, ...] = ()
    chat_capacity: int = 0
    hotline_capacity: int = 0
    demo_login: bool = False
    """One of the documented demo logins (password ``DEMO_PASSWORD``)."""

    @property
    def is_agent(self) -> bool:
        return bool(self.service_roles)

    @property
    def chat_name(self) -> str:
        """The 花名 the agent signs chats with."""
        return chat_name(self.display_name)


DEMO_LOGINS = (
    StaffMember("owner", UserRole.OWNER, "演示店主", demo_login=True),
    StaffMember("admin", UserRole.ADMIN, "系统管理员", demo_login=True),
    StaffMember("supervisor", UserRole.SUPERVISOR, "售后主管周敏", demo_login=True),
    StaffMember("qc", UserRole.QC_INSPECTOR, "质检专员陈静", demo_login=True),
    StaffMember("trainer", UserRole.TRAINER, "培训专员刘洋", demo_login=True),
    StaffMember(
        "agent",
        UserRole.AGENT,
        "林小美",
        (PRESALES, AFTERSALES_TRIAGE),
        ("large_appliance",),
        chat_capacity=6,
        hotline_capacity=1,
        demo_login=True,
    ),
    StaffMember(
        "refund",
        UserRole.AGENT,
        "赵文杰",
        (REFUND,),
        ("vip",),
        chat_capacity=5,
        hotline_capacity=1,
        demo_login=True,
    ),
)


def plan_staff(rng: random.Random, names: Sequence[str]) -> list[StaffMember]:
    """The demo logins, then 30 agents ``cs01``..``cs30`` named from ``names``."""
    if len(names) < len(_AGENT_ROLES):
        raise ValueError(f"need {len(_AGENT_ROLES)} names")
    agents = [
        StaffMember(
            username=f"cs{number:02d}",
            role=UserRole.AGENT,
            display_name=name,
            service_roles=roles,
            skills=skills,
            # Hotline-only agents keep a few chats for call follow-ups.
            chat_capacity=3 if roles == (HOTLINE,) else rng.randint(3, 8),
            hotline_capacity=1,
        )
        for number, (name, (roles, skills)) in enumerate(
            zip(names, _AGENT_ROLES, strict=False), start=1
        )
    ]
    return [*DEMO_LOGINS, *agents]


@dataclass(frozen=True)
class Shift:
    name: str
    start_hour: int
    end_hour: int


NIGHT = Shift("夜班", 0, 8)
EARLY = Shift("早班", 8, 16)
LATE = Shift("晚班", 16, 24)
SHIFTS = (NIGHT, EARLY, LATE)

# Who must be on each shift every day. Scarce roles come first, so specialists are not
# used up on roles many can hold.
DAILY_SLOTS: tuple[tuple[Shift, ServiceRole, str | None], ...] = (
    (NIGHT, REFUND, REFUND_REVIEW),
    (NIGHT, PRESALES, None),
    (EARLY, PAYMENT_CHASING, DESIGNATED_CHASER),
    (EARLY, ORDER_REVIEW, None),
    (EARLY, HOTLINE, None),
    (EARLY, REFUND, REFUND_REVIEW),
    (EARLY, REFUND, REFUND_PROCESSING),
    (EARLY, AFTERSALES_TRIAGE, None),
    (EARLY, AFTERSALES_TRIAGE, None),
    (EARLY, PRESALES, None),
    (EARLY, PRESALES, None),
    (EARLY, PRESALES, None),
    (LATE, ORDER_REVIEW, None),
    (LATE, HOTLINE, None),
    (LATE, REFUND, REFUND_REVIEW),
    (LATE, REFUND, REFUND_PROCESSING),
    (LATE, AFTERSALES_TRIAGE, None),
    (LATE, AFTERSALES_TRIAGE, None),
    (LATE, PRESALES, None),
    (LATE, PRESALES, None),
    (LATE, PRESALES, None),
)
# The two demo agents work the early shift every day, so a daytime demo finds them rostered.
DEMO_SLOTS = {"agent": (EARLY, PRESALES, None), "refund": (EARLY, REFUND, REFUND_REVIEW)}
WORK_DAYS_PER_WEEK = 5


def plan_roster(
    rng: random.Random,
    staff: Sequence[tuple[int, StaffMember]],
    first_day: date,
    days: int = 7,
) -> list[ShiftSpec]:
    """Fill every daily slot for ``days`` shop-local days from ``first_day``.

    Greedy, day by day: each slot goes to the eligible agent with the fewest shifts so far
    (specialists before agents holding several roles). Nobody works twice a day or a night
    right after a late shift, and nobody more than five days unless no one else can.
    """
    agents = [(user_id, member) for user_id, member in staff if member.is_agent]
    worked = {user_id: 0 for user_id, _ in agents}
    late_yesterday: set[int] = set()
    shifts: list[ShiftSpec] = []
    demo_ids = {member.username: user_id for user_id, member in agents if member.demo_login}
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        busy: set[int] = set()
        open_slots = list(DAILY_SLOTS)
        for username, slot in DEMO_SLOTS.items():
            if username in demo_ids and slot in open_slots:
                open_slots.remove(slot)
                user_id = demo_ids[username]
                busy.add(user_id)
                worked[user_id] += 1
                shifts.append(_shift(user_id, day, slot))
        tiebreak = {user_id: rng.random() for user_id, _ in agents}
        late_today: set[int] = set()
        for slot in open_slots:
            shift, role, _duty = slot
            picked = _pick(agents, role, busy, worked, tiebreak, late_yesterday, shift)
            if picked is None:
                raise ValueError(f"no agent left for {role} on {day} {shift.name}")
            busy.add(picked)
            worked[picked] += 1
            if shift is LATE:
                late_today.add(picked)
            shifts.append(_shift(picked, day, slot))
        late_yesterday = late_today
    return shifts


def _pick(
    agents: Sequence[tuple[int, StaffMember]],
    role: ServiceRole,
    busy: set[int],
    worked: dict[int, int],
    tiebreak: dict[int, float],
    late_yesterday: set[int],
    shift: Shift,
) -> int | None:
    eligible = [
        (user_id, member)
        for user_id, member in agents
        if role in member.service_roles
        and user_id not in busy
        and not member.demo_login
        and not (shift is NIGHT and user_id in late_yesterday)
    ]
    for limit in (WORK_DAYS_PER_WEEK, WORK_DAYS_PER_WEEK + 1, 7):
        within = [(u, m) for u, m in eligible if worked[u] < limit]
        if within:
            user_id, _ = min(
                within, key=lambda um: (worked[um[0]], len(um[1].service_roles), tiebreak[um[0]])
            )
            return user_id
    return None


def _shift(user_id: int, day: date, slot: tuple[Shift, ServiceRole, str | None]) -> ShiftSpec:
    shift, role, duty = slot
    return ShiftSpec(
        user_id=user_id,
        service_role=role,
        starts_at=local_at(day, shift.start_hour),
        ends_at=local_at(day, shift.end_hour),
        duty=duty,
    )
