"""Every job and every cron entry, in one place; both runners read this table.

The in-process runner (embedded mode) and the arq worker (server mode) register exactly these
functions under these names, and run the cron entries on the same schedule (arq's
``next_cron``, in UTC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from arq.cron import next_cron
from arq.typing import OptionType, WeekdayOptionType

from csdesk.jobs import (
    alerts,
    deliveries,
    housekeeping,
    promotions,
    qc,
    routing,
    training,
    triage,
    whatif,
)
from csdesk.jobs.base import JobFunction, UnknownJobError


@dataclass(frozen=True)
class CronEntry:
    """When to run ``fn``: arq's cron fields, each a set, one value, or None for "every"."""

    fn: JobFunction
    month: OptionType = None
    day: OptionType = None
    weekday: WeekdayOptionType = None
    hour: OptionType = None
    minute: OptionType = None
    second: OptionType = 0
    run_at_startup: bool = False

    @property
    def name(self) -> str:
        return f"cron:{self.fn.__name__}"

    def next_after(self, moment: datetime) -> datetime:
        """The first run strictly after ``moment`` (arq's pure ``next_cron``)."""
        return next_cron(
            moment,
            month=self.month,
            day=self.day,
            weekday=self.weekday,
            hour=self.hour,
            minute=self.minute,
            second=self.second,
        )


@dataclass(frozen=True)
class Registry:
    functions: tuple[JobFunction, ...]
    cron: tuple[CronEntry, ...] = ()
    by_name: dict[str, JobFunction] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {fn.__name__: fn for fn in self.functions}
        if len(by_name) != len(self.functions):
            raise ValueError("two job functions share a name")
        object.__setattr__(self, "by_name", by_name)

    def get(self, name: str) -> JobFunction:
        try:
            return self.by_name[name]
        except KeyError:
            raise UnknownJobError(f"no job named {name!r} (see csdesk/jobs/registry.py)") from None


EVERY_10_S = set(range(0, 60, 10))
EVERY_15_S = {0, 15, 30, 45}
EVERY_30_S = {0, 30}

REGISTRY = Registry(
    functions=(
        housekeeping.purge_expired_sessions,
        housekeeping.purge_processed_events,
        routing.activate_due_items,
        routing.rescore_deadlines,
        routing.reassign_unanswered,
        routing.resume_auto_suspended,
        routing.reconcile_queue_index,
        routing.watch_queue_index,
        routing.retry_pending_events,
        qc.qc_check_conversation,
        qc.qc_check_sweep,
        qc.qc_daily_sample,
        deliveries.deliver,
        deliveries.deliver_due,
        deliveries.webhook_fan_out,
        training.training_reminders,
        training.training_rules_sweep,
        alerts.evaluate_alerts,
        alerts.deliver_alerts,
        alerts.purge_old_alerts,
        promotions.switch_promotions,
        triage.retrain_triage_models,
        whatif.run_whatif,
        whatif.whatif_sweep,
    ),
    cron=(
        # A chase is due 15 min after order.created; 10 s of lateness is invisible to a
        # buyer and keeps the sweep cheap (one indexed query per shop).
        CronEntry(routing.activate_due_items, second=EVERY_10_S),
        # Deadline points move in steps of hours (refund auto-approval); once a minute
        # is far finer than any step.
        CronEntry(routing.rescore_deadlines, second=0),
        # "Assigned but unanswered for N minutes" (default 3 min): a 30 s sweep keeps the
        # overshoot small against the 3-minute response-rate window.
        CronEntry(routing.reassign_unanswered, second=EVERY_30_S),
        # 自动挂起 ends at once when the agent closes or transfers a chat; this catches
        # chats that left an agent elsewhere (a paid order closing a chase). One indexed
        # query per shop when nobody is suspended.
        CronEntry(routing.resume_auto_suspended, second=EVERY_10_S),
        # The index is rebuilt at start; this only repairs entries lost when a claim's
        # transaction rolled back after the index pop.
        CronEntry(routing.reconcile_queue_index, minute=set(range(0, 60, 5)), second=30),
        # A lost index (a Redis flush) strands every queued item: noticed and restored
        # within 10 s even when no agent asks for work, and idle agents are offered it.
        CronEntry(routing.watch_queue_index, second=EVERY_10_S),
        # Events a crashed web process accepted (durable) but never processed, and events
        # that arrived before what they refer to.
        CronEntry(routing.retry_pending_events, second=EVERY_15_S),
        # Logins last one shift (AuthSettings.session_max_age_s, 12 h) and the auth check
        # refuses an expired session whether or not its row is still there, so this only
        # reclaims space: every 10 minutes keeps the table near the number of live logins
        # for the cost of one small DELETE.
        CronEntry(housekeeping.purge_expired_sessions, minute={0, 10, 20, 30, 40, 50}),
        # Processed platform events older than the retention (30 days by default, never
        # under 7: their ids answer redeliveries as duplicates). Hourly keeps each run's
        # DELETE to an hour of traffic, in batches.
        CronEntry(housekeeping.purge_processed_events, minute=47, second=0),
        # QC: closed conversations whose check job was lost (a restart) are checked within
        # 5 minutes; the daily sample runs hourly and draws each shop's previous local day
        # once (a shop in any time zone gets it soon after its midnight).
        CronEntry(qc.qc_check_sweep, minute=set(range(2, 60, 5)), second=15),
        CronEntry(qc.qc_daily_sample, minute=20, second=0),
        # Outbound deliveries: each has its own job (and its retries deferred jobs); this
        # catches what no job took: deliveries committed just before a crash, retries whose
        # job was lost, leases of senders that died. 5 s is a retry's shortest wait by
        # default, so a restart sends what the last process left within it.
        CronEntry(deliveries.deliver_due, second=set(range(0, 60, 5))),
        # Training: due dates are whole days and reminders go out hours ahead, so a
        # 5-minute sweep is punctual enough; each reminder is sent once whatever the cadence.
        CronEntry(training.training_reminders, minute=set(range(1, 60, 5)), second=40),
        # Findings come to stand when their answer window closes, with nobody acting: the
        # shop's rules are evaluated for them within 10 minutes (the QC dispute actions
        # evaluate them at once when an agent acknowledges or the lead upholds).
        CronEntry(training.training_rules_sweep, minute=set(range(4, 60, 10)), second=50),
        # Alerts: queues and waits move by the second but an owner reads a robot message in
        # minutes; every 30 s notices a crossing soon without re-reading the dashboard's
        # figures all the time (one evaluation per shop with alerts on).
        CronEntry(alerts.evaluate_alerts, second={5, 35}),
        # Retries of failed robot deliveries: the shortest wait is 30 s, so every 15 s is
        # at most half a wait late. First attempts are made by the evaluation itself.
        CronEntry(alerts.deliver_alerts, second={7, 22, 37, 52}),
        # Alerts are kept 90 days for the list; once a day, 04:50 China time, is plenty.
        CronEntry(alerts.purge_old_alerts, hour=20, minute=50, second=0),
        # Promotion schedules are set to the minute; 10 s of lateness at the start of
        # 双十一 is invisible, and the check is one indexed query when nothing is due.
        CronEntry(promotions.switch_promotions, second=EVERY_10_S),
        # Triage learning: nightly, 03:40 China time (19:40 UTC), when chats are fewest;
        # a shop without new corrections costs one small query.
        CronEntry(triage.retrain_triage_models, hour=19, minute=40, second=0),
        # What-if runs whose job was lost (an embedded restart, a dead worker): re-enqueued
        # within a minute of counting as lost; one indexed query when there are none.
        CronEntry(whatif.whatif_sweep, second=25),
    ),
)
