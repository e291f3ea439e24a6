"""Period lifecycle writes: open, close (the only writer of results), rebind to a new version."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from kaoping.accounts.scoping import ensure
from kaoping.core import pagecache
from kaoping.core.audit import audit_record
from kaoping.core.errors import ImportFailed, KaopingError, RowError
from kaoping.core.limits import METRIC_VALUE_MAX
from kaoping.core.progress import progress_step
from kaoping.core.statistics import tables_analyze
from kaoping.ledger.computed import entries_compute
from kaoping.ledger.models import Entry, MetricValue
from kaoping.ledger.services import ledger_seal, ledger_unseal, metric_values_put
from kaoping.people.models import Subject
from kaoping.people.services import subjects_sync
from kaoping.regions.models import Region
from kaoping.schemes.calendar import cadence_of_label, labels_within, period_dates
from kaoping.schemes.labels import cadence_label
from kaoping.schemes.models import METRIC_SCALE, Scheme, SchemeNode, SchemeVersion
from kaoping.schemes.spec import NoData, PartSource, RollupMethod, SchemeSpec

from . import engine
from .crossscheme import sources_fill
from .lists import lists_compute
from .metrics import COMPUTED, system_metrics
from .models import ListMembership, Period, PeriodStatus, Result

# Allowed transitions, declared once: action → the statuses it may start from. A posted period
# may be closed again (an upheld objection corrected through the ledger) and stays posted.
TRANSITIONS = {
    "close": {PeriodStatus.OPEN, PeriodStatus.CLOSED, PeriodStatus.POSTED},
    "post": {PeriodStatus.CLOSED},
    "finalise": {PeriodStatus.POSTED},
    "reopen": {PeriodStatus.CLOSED, PeriodStatus.POSTED, PeriodStatus.FINAL},
}

ACTION_NAMES = {
    "close": gettext_lazy("closed"),
    "post": gettext_lazy("posted publicly"),
    "finalise": gettext_lazy("finalised"),
    "reopen": gettext_lazy("reopened"),
}


def _hooks(name: str) -> list:
    """The callables named in `settings.PERIOD_HOOKS[name]`, in the order written there.

    The readers of results sit above this module and may not be imported by it; the composition
    layer (config/settings.py) lists them, so one place shows everything a close sets off.
    """
    return [import_string(path) for path in settings.PERIOD_HOOKS.get(name, ())]


def period_open(*, scheme: Scheme, label: str, acting_user) -> Period:
    """The period `label` of `scheme`, created (open, bound to the latest version) if new."""
    ensure(acting_user, "period.close", scheme)
    cadence = cadence_of_label(label)
    if cadence != scheme.cadence and not _rollup_for(scheme.latest_version().spec(), cadence):
        raise KaopingError(
            _("Scheme %(code)s is scored per %(cadence)s and has no roll-up per %(other)s.")
            % {
                "code": scheme.code,
                "cadence": cadence_label(scheme.cadence),
                "other": cadence_label(cadence),
            }
        )
    start, end = period_dates(cadence, label)
    period = Period.objects.filter(scheme=scheme, cadence=cadence, label=label).first()
    if period is not None:
        return period
    with transaction.atomic():
        period, created = Period.objects.get_or_create(
            scheme=scheme,
            cadence=cadence,
            label=label,
            defaults={"version": scheme.latest_version(), "start": start, "end": end},
        )
        if created:
            audit_record(
                actor=acting_user,
                action="periods.period.opened",
                obj=period,
                region_code=scheme.region.code,
                after={"label": label, "version": period.version.number},
            )
    return period


def _rollup_for(spec: SchemeSpec, cadence: str):
    return next((r for r in spec.rollups if str(r.cadence) == cadence), None)


def _scope(period: Period, spec: SchemeSpec) -> engine.Scope:
    scope = _bare_scope(period, spec)
    if spec.no_data is NoData.EXCLUDE:
        scope.data_filter = _data_condition(period, spec, scope)
    return scope


def _bare_scope(period: Period, spec: SchemeSpec) -> engine.Scope:
    return engine.Scope(
        period_id=period.pk,
        version_id=period.version_id,
        scheme_id=period.scheme_id,
        subject_kind=period.scheme.subject_kind,
        region_prefix=period.scheme.region.code,
        start=period.start.isoformat(),
        end=period.end.isoformat(),
        cadence=period.cadence,
        period_label=period.label,
        variants=list(spec.variants),
        overlay_regions=spec.overlay_regions(),
        rank_within=str(spec.ranking.within),
        rank_dense=str(spec.ranking.ties) == "dense",
        rank_ascending=str(spec.ranking.order) == "asc",
    )


def _rollup_children(period: Period, spec: SchemeSpec) -> list[Period]:
    """The periods a roll-up period is computed from (all must be closed)."""
    rollup = _rollup_for(spec, period.cadence)
    if rollup.method in (RollupMethod.SUM, RollupMethod.MEAN):
        return _child_periods(period, str(rollup.source or spec.cadence))
    children = []
    for part in rollup.parts:
        if part.source is not PartSource.SELF:
            children += _child_periods(period, str(part.source))
    return children


def _data_condition(period: Period, spec: SchemeSpec, scope: engine.Scope) -> tuple[str, list]:
    own = period.cadence == str(spec.cadence)
    return engine.data_filter(
        scope,
        entry_cadence="" if own else period.cadence,
        child_ids=[] if own else [p.pk for p in _rollup_children(period, spec)],
        computed_metrics=sorted(COMPUTED),
    )


def subjects_without_data(
    period: Period, spec: SchemeSpec, *, limit: int | None = None
) -> tuple[int, list[tuple[int, str]]]:
    """How many subjects the close of `period` scores have no data in it, and the (id, name)
    of the first `limit` of them in region order (all when None).

    No data, as `scoring.no_data_outcome` says: no approved entry dated in the period (computed
    ones aside) and no reported metric value; for a roll-up, no result in the periods it is
    computed from and no entry of its own. Raises KaopingError when a roll-up's periods are
    not all closed.
    """
    scope = _bare_scope(period, spec)
    sql, params = engine.without_data_statement(scope, _data_condition(period, spec, scope))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) w", params)
        count = cursor.fetchone()[0]
        if limit is not None:
            sql, params = f"{sql} LIMIT %s", [*params, limit]
        cursor.execute(sql, params)
        return count, [(row[0], row[1]) for row in cursor.fetchall()]


NAMES_SHOWN = 10


def names_text(names: list[str], count: int) -> str:
    """The names joined, with “等 N 个” when `count` is larger."""
    text = "、".join(names)
    if count > len(names):
        text += _(" and %(n)d more") % {"n": count - len(names)}
    return text


def _refuse_without_data(period: Period, spec: SchemeSpec) -> None:
    """`no_data: block`: the close stops, naming how many subjects lack data and which."""
    count, missing = subjects_without_data(period, spec, limit=NAMES_SHOWN)
    if count:
        raise KaopingError(
            ngettext(
                "%(n)d subject has no data in %(period)s, and this scheme does not close while "
                "any has none (no_data: block): %(names)s. Record its entries or figures first.",
                "%(n)d subjects have no data in %(period)s, and this scheme does not close while "
                "any has none (no_data: block): %(names)s. Record their entries or figures first.",
                count,
            )
            % {
                "n": count,
                "period": period.label,
                "names": names_text([name for _id, name in missing], count),
            }
        )


def _tree_shape(scope: engine.Scope) -> engine.TreeShape:
    nodes = SchemeNode.objects.filter(version_id=scope.version_id)
    groups: dict[str, dict] = {}
    for node in nodes.filter(is_item=False).order_by("depth", "position", "variant"):
        group = groups.setdefault(
            node.code, {"parent_code": node.parent_code, "depth": node.depth, "constants": {}}
        )
        # A group sits at one place in every variant (variants and overlays exclude and add
        # nodes, never move one); the close computes it once per subject on that assumption.
        assert (group["parent_code"], group["depth"]) == (node.parent_code, node.depth), node.code
        group["constants"][node.variant] = (
            node.base + node.children_empty,
            node.lo,
            node.hi,
            node.empty_value,
        )
    return engine.TreeShape(
        aggregates=set(nodes.filter(is_item=True).values_list("aggregate", flat=True).distinct()),
        groups=[engine.GroupNode(code, **group) for code, group in groups.items()],
    )


def _child_periods(period: Period, cadence: str) -> list[Period]:
    """The closed periods of `cadence` inside `period`; all must be closed."""
    labels = labels_within(cadence, period.start, period.end)
    found = {
        p.label: p
        for p in Period.objects.filter(scheme=period.scheme, cadence=cadence, label__in=labels)
    }
    missing = [
        label for label in labels if label not in found or found[label].status == PeriodStatus.OPEN
    ]
    if missing:
        raise KaopingError(
            _("Close %(labels)s first: %(period)s is computed from them.")
            % {"labels": "、".join(missing), "period": period.label}
        )
    return [found[label] for label in labels]


def _metric_statements(scope: engine.Scope, version: SchemeVersion) -> list[tuple[str, list]]:
    used = set(
        SchemeNode.objects.filter(version=version, aggregate="metric").values_list(
            "metric", flat=True
        )
    )
    return [COMPUTED[name](scope) for name in sorted(used & set(COMPUTED))]


def _close_statements(period: Period, spec: SchemeSpec) -> list[tuple[str, list]]:
    scope = _scope(period, spec)
    if period.cadence == str(spec.cadence):
        # Metric statements ran already (see period_close): computed entries depend on them.
        return [engine.result_statement(scope, "", _tree_shape(scope))]
    rollup = _rollup_for(spec, period.cadence)
    statements = engine.staging_statements()
    if rollup.adjust:
        statements.append(engine.adjust_part_statement(scope, period.version.scale))
    if rollup.method in (RollupMethod.SUM, RollupMethod.MEAN):
        children = [p.pk for p in _child_periods(period, str(rollup.source or spec.cadence))]
        mean = rollup.method == RollupMethod.MEAN
        statements += [
            engine.rollup_node_statement(scope, children, mean),
            engine.rollup_result_statement(scope, child_ids=children, mean=mean),
        ]
        return [*statements, *engine.drop_staging_statements()]
    parts, all_children = [], []
    for part in rollup.parts:
        weight = int(part.weight * engine.WEIGHT_SCALE)
        if str(part.source) == "self":
            statements.append(
                engine.tree_stage_statement(scope, period.cadence, _tree_shape(scope))
            )
            statements.append(engine.self_part_statement(scope))
            parts.append(("self", weight))
            continue
        children = [p.pk for p in _child_periods(period, str(part.source))]
        all_children += children
        statements.append(
            engine.part_statement(scope, str(part.source), children, str(part.aggregate) == "mean")
        )
        parts.append((str(part.source), weight))
    statements.append(
        engine.rollup_result_statement(scope, child_ids=all_children, mean=False, parts=parts)
    )
    return [*statements, *engine.drop_staging_statements()]


def _ytd_periods(period: Period, spec: SchemeSpec) -> list[Period]:
    """The periods a year-to-date total at `period` adds up: the scheme's own periods of its
    year that end by `period`'s end and were opened (one never opened, e.g. before the scheme
    began, counts nothing). One opened and not closed stops the close: the total would leave
    it out without saying so. `period` itself counts while it is being closed."""
    cadence = str(spec.cadence)
    year_start, _year_end = period_dates("year", str(period.start.year))
    labels = labels_within(cadence, year_start, period.end)
    found = list(
        Period.objects.filter(scheme=period.scheme_id, cadence=cadence, label__in=labels)
        .exclude(pk=period.pk)
        .order_by("start")
    )
    still_open = [p.label for p in found if p.status == PeriodStatus.OPEN]
    if still_open:
        raise KaopingError(
            _("Close %(labels)s first: the year-to-date total of %(period)s counts them.")
            % {"labels": "、".join(still_open), "period": period.label}
        )
    if period.cadence == cadence:
        found.append(period)
    return found


def _ytd_statements(period: Period, spec: SchemeSpec) -> list[tuple[str, list]]:
    """The year-to-date totals of the period's results, and the grades on them, for a scheme
    whose lists or grades use them."""
    if not spec.uses_ytd():
        return []
    mean = spec.ytd_rollup().method is RollupMethod.MEAN
    ids = [p.pk for p in _ytd_periods(period, spec)]
    scope = _bare_scope(period, spec)
    statements = [engine.ytd_statement(scope, ids, mean)]
    graded = [grade.code for grade in spec.grades if grade.value == "ytd"]
    if graded:
        statements.append(engine.ytd_grade_statement(scope, graded))
    return statements


# The phases of a close a progress bar shows (see period_close).
CLOSE_STEPS = 4
# The tables the close's statements read besides the scheme's own (kaoping.core.statistics).
CLOSE_READS = (Entry, Subject, Region, MetricValue, Result)


def _close_step(progress, done: int, message: str) -> None:
    if progress is not None:
        progress_step(progress, done=done, message=message)


def period_close(*, period: Period, acting_user, progress=None) -> dict:
    """Compute every subject's result for `period` in one transaction; closing again is identical.

    A failed close raises and leaves the previous results and status as they were. Inside the
    same transaction, after results and lists, the readers of results listed in
    `settings.PERIOD_HOOKS["after_close"]` run in order (consequences, objections).
    `progress` (kaoping.core.progress, CLOSE_STEPS steps) is told each phase as it ends.
    """
    ensure(acting_user, "period.close", period)
    spec = period.version.spec()
    # A close run soon after a bulk load (a county's first import, the demo's year) is
    # planned for the tables as they are now, not as they were before the load.
    tables_analyze(CLOSE_READS, only_stale=True)
    with transaction.atomic():
        locked = (
            Period.objects.select_for_update()
            .select_related("scheme__region", "version")
            .get(pk=period.pk)
        )
        if locked.status not in TRANSITIONS["close"]:
            raise KaopingError(
                _("%(period)s is %(status)s; only an open or closed period can be closed again.")
                % {"period": locked.label, "status": locked.get_status_display()}
            )
        previous = locked.status
        # Households, members and villages added since the last close are scored too.
        subjects_sync(kind=locked.scheme.subject_kind)
        # settings.PERIOD_HOOKS["before_close"]: feeders push the metric values they own for
        # this period (grid visit coverage, …) so that the close reads today's, not yesterday's.
        for hook in _hooks("before_close"):
            hook(locked, spec, acting_user)
        # `source:` items: the other schemes' results this period reads (all closed, or refused).
        sources_fill(locked, spec, _bare_scope(locked, spec))
        if spec.no_data is NoData.BLOCK:
            _refuse_without_data(locked, spec)
        _close_step(progress, 1, _("Subjects and figures gathered"))
        # Each listing by itself: a fresh one, or the carry of one earlier listing.
        resolved = {
            (subject_id, code, origin): when
            for subject_id, code, origin, when in ListMembership.objects.filter(
                period=locked, resolved_at__isnull=False
            ).values_list("subject_id", "list_code", "carried_from_id", "resolved_at")
        }
        ListMembership.objects.filter(period=locked).delete()
        Result.objects.filter(period=locked).delete()
        MetricValue.objects.filter(
            scheme_id=locked.scheme_id, period_label=locked.label, metric__in=list(COMPUTED)
        ).delete()
        if locked.cadence == str(spec.cadence):
            engine.run(_metric_statements(_scope(locked, spec), locked.version))
            entries_compute(period=locked, acting_user=acting_user)
        inserted = engine.run(
            [
                *_close_statements(locked, spec),
                *_ytd_statements(locked, spec),
            ]
        )
        # SQLite has no autovacuum: without statistics it takes periods_result for a small
        # table and reads a whole period to show one village's posting, so every close
        # refreshes them (a third of a second per million results). PostgreSQL's autovacuum
        # catches up within a minute; the close does only what cannot wait.
        tables_analyze([Result], only_stale=connection.vendor != "sqlite")
        _close_step(progress, 2, _("Results computed"))
        lists_compute(locked, spec)
        _close_step(progress, 3, _("Lists computed"))
        # A rectification accepted before this re-close stays accepted; restored before the
        # hooks run so that they see the lists as they stand (a resolved listing needs no pledge).
        for (subject_id, code, origin), when in resolved.items():
            ListMembership.objects.filter(
                period=locked, subject_id=subject_id, list_code=code, carried_from_id=origin
            ).update(resolved_at=when)
        # settings.PERIOD_HOOKS["after_close"]: consequences, then objections marked applied.
        for hook in _hooks("after_close"):
            hook(locked, spec, acting_user)
        _close_step(progress, CLOSE_STEPS, _("Consequences applied"))
        closed_at = timezone.now()
        new_status = PeriodStatus.POSTED if previous == PeriodStatus.POSTED else PeriodStatus.CLOSED
        pagecache.changed("period", locked.pk)
        Period.objects.filter(pk=locked.pk, status=previous).update(
            status=new_status,
            closed_at=closed_at,
            closed_by=acting_user if acting_user and acting_user.is_authenticated else None,
        )
        counts = {"results": inserted["periods_result"]}
        audit_record(
            actor=acting_user,
            action="periods.period.closed",
            obj=locked,
            region_code=locked.scheme.region.code,
            before={"status": previous},
            after={"status": new_status, "version": locked.version.number, **counts},
        )
    return counts


def membership_resolve(
    *, subject, list_code: str, acting_user, scheme=None, origins: set[int] | None = None
) -> int:
    """Mark every unresolved listing of `subject` on `list_code` resolved (e.g. its rectification
    pledge was accepted), so that the listing stops being carried into later periods.

    `scheme` limits it to that scheme's periods (two schemes may both have a list called black).
    `origins` (period ids) limits it to the listings made in those periods and their carries:
    the rectification of one listing ends that carry only (`listing_origins`).
    A conditional update: listings already resolved keep their time. Joins the caller's
    transaction, so an acceptance and the resolution it causes commit together. Returns how many
    listings were resolved.
    """
    ensure(acting_user, "outcome.manage", subject)
    with transaction.atomic():
        rows = ListMembership.objects.filter(
            subject=subject, list_code=list_code, resolved_at__isnull=True
        )
        if scheme is not None:
            rows = rows.filter(period__scheme=scheme)
        if origins is not None:
            rows = rows.filter(
                Q(carried=False, period_id__in=origins)
                | Q(carried=True, carried_from_id__in=origins)
            )
        periods = sorted(set(rows.values_list("period__label", flat=True)))
        resolved = rows.update(resolved_at=timezone.now())
        if resolved:
            audit_record(
                actor=acting_user,
                action="periods.membership.resolved",
                obj=subject,
                region_code=subject.region.code,
                after={
                    "list": list_code,
                    "scheme": getattr(scheme, "code", ""),
                    "periods": periods,
                    "count": resolved,
                },
            )
    return resolved


def listing_origins(*, period: Period, subject_id: int, list_code: str) -> set[int]:
    """The listings a rectification set off in `period` answers for, as the periods they were
    made in: the subject's fresh listing there if it has one, else the earlier listings carried
    into it that are still unresolved."""
    rows = ListMembership.objects.filter(period=period, subject_id=subject_id, list_code=list_code)
    if rows.filter(carried=False).exists():
        return {period.pk}
    return set(
        rows.filter(carried=True, resolved_at__isnull=True).values_list(
            "carried_from_id", flat=True
        )
    )


def period_rebind(*, period: Period, version: SchemeVersion, acting_user) -> Period:
    """Re-score an open or closed period under another version of its scheme (asked for, audited)."""
    ensure(acting_user, "period.close", period)
    if version.scheme_id != period.scheme_id:
        raise KaopingError(_("That version belongs to another scheme."))
    with transaction.atomic():
        locked = Period.objects.select_for_update().get(pk=period.pk)
        if locked.status not in (PeriodStatus.OPEN, PeriodStatus.CLOSED):
            raise KaopingError(
                _("%(period)s is %(status)s; its results stay bound to version %(n)d.")
                % {
                    "period": locked.label,
                    "status": locked.get_status_display(),
                    "n": locked.version.number,
                }
            )
        before = locked.version.number
        updated = Period.objects.filter(pk=locked.pk, status=locked.status).update(
            version=version, status=PeriodStatus.OPEN, closed_at=None, closed_by=None
        )
        if not updated:
            raise KaopingError(_("The period changed while you were working; try again."))
        Result.objects.filter(period=locked).delete()
        audit_record(
            actor=acting_user,
            action="periods.period.rebound",
            obj=locked,
            region_code=locked.scheme.region.code,
            before={"version": before},
            after={"version": version.number},
        )
    locked.refresh_from_db()
    return locked


def _transition(
    *, period: Period, action: str, to: str, acting_user, changes: dict, reason: str = ""
) -> Period:
    """Move `period` by `action` with a conditional update; 0 rows means someone got there first."""
    with transaction.atomic():
        locked = (
            Period.objects.select_for_update().select_related("scheme__region").get(pk=period.pk)
        )
        if locked.status not in TRANSITIONS[action]:
            raise KaopingError(
                _("%(period)s is %(status)s; it cannot be %(action)s now.")
                % {
                    "period": locked.label,
                    "status": locked.get_status_display(),
                    "action": _(action),
                }
            )
        updated = Period.objects.filter(pk=locked.pk, status=locked.status).update(
            status=to, **changes
        )
        if not updated:
            raise KaopingError(_("The period changed while you were working; try again."))
        # The ledger refuses entries dated inside a final period by a seal of its own.
        if to == PeriodStatus.FINAL:
            ledger_seal(
                scheme=locked.scheme, start=locked.start, end=locked.end, reason=locked.seal_reason
            )
        elif locked.status == PeriodStatus.FINAL:
            ledger_unseal(scheme=locked.scheme, reason=locked.seal_reason)
        pagecache.changed("period", locked.pk)
        audit_record(
            actor=acting_user,
            action=f"periods.period.{action}",
            obj=locked,
            region_code=locked.scheme.region.code,
            before={"status": locked.status},
            after={"status": to, "reason": reason} if reason else {"status": to},
        )
    locked.refresh_from_db()
    return locked


def period_post(*, period: Period, acting_user) -> Period:
    """Publish a closed period (公示): objections are taken until the window ends."""
    ensure(acting_user, "period.close", period)
    now = timezone.now()
    days = period.version.spec().posting.window_days
    return _transition(
        period=period,
        action="post",
        to=PeriodStatus.POSTED,
        acting_user=acting_user,
        changes={"posted_at": now, "objection_deadline": now + timedelta(days=days)},
    )


def period_finalise(*, period: Period, acting_user, now=None) -> Period:
    """Lock a posted period once its objection window has ended and nothing blocks it."""
    ensure(acting_user, "period.close", period)
    now = now or timezone.now()
    if period.objection_deadline and now < period.objection_deadline:
        raise KaopingError(
            _("Objections are taken until %(deadline)s; finalise after that.")
            % {"deadline": timezone.localtime(period.objection_deadline).strftime("%Y-%m-%d %H:%M")}
        )
    for blocker in _hooks("finalise_blockers"):
        message = blocker(period)
        if message:
            raise KaopingError(message)
    return _transition(
        period=period,
        action="finalise",
        to=PeriodStatus.FINAL,
        acting_user=acting_user,
        changes={"finalised_at": now},
    )


def period_reopen(*, period: Period, reason: str, acting_user) -> Period:
    """Reopen a closed, posted or final period; a county admin's decision, with a reason."""
    ensure(acting_user, "period.close", period)
    if not reason.strip():
        raise KaopingError({"reason": _("Say why the period is reopened.")})
    with transaction.atomic():
        reopened = _transition(
            period=period,
            action="reopen",
            to=PeriodStatus.OPEN,
            acting_user=acting_user,
            reason=reason.strip(),
            changes={"posted_at": None, "objection_deadline": None, "finalised_at": None},
        )
        # What the close created is void: an open period has no results and no lists (a
        # listing's acceptance is kept by its pledge, which the next close reads again).
        voided = {
            "results": Result.objects.filter(period=reopened).delete()[0],
            "lists": ListMembership.objects.filter(period=reopened).delete()[0],
        }
        audit_record(
            actor=acting_user,
            action="periods.period.voided",
            obj=reopened,
            region_code=reopened.scheme.region.code,
            after={"reason": reason.strip(), **voided},
        )
        # settings.PERIOD_HOOKS["after_reopen"]: consequences not acted on are voided.
        for hook in _hooks("after_reopen"):
            hook(reopened, reason.strip(), acting_user)
    return reopened


def periods_finalise_due(*, acting_user, now=None) -> list[Period]:
    """Finalise every posted period whose window has ended and nothing blocks (a daily job)."""
    now = now or timezone.now()
    due = Period.objects.filter(status=PeriodStatus.POSTED, objection_deadline__lte=now)
    ensure(acting_user, "period.close", due)
    done = []
    for period in due.select_related("version"):
        try:
            done.append(period_finalise(period=period, acting_user=acting_user, now=now))
        except KaopingError:
            continue  # an open objection holds it; the next run tries again
    return done


def metrics_report(*, period: Period, values: list[tuple], acting_user) -> int:
    """Store reported metric values (subject, metric, value) for a period; replaces earlier ones.

    Only metric names the period's scheme uses, and not the ones the close computes itself; only
    for subjects the actor records for.
    """
    subjects = Subject.objects.filter(pk__in={subject.pk for subject, _m, _v in values})
    ensure(acting_user, "entry.record", subjects)
    used = set(
        SchemeNode.objects.filter(version=period.version)
        .exclude(metric="")
        .values_list("metric", flat=True)
    )
    if period.status in (PeriodStatus.POSTED, PeriodStatus.FINAL):
        raise KaopingError(
            _("%(period)s is already posted; its figures can no longer change.")
            % {"period": period.label}
        )
    problems = []
    unreported = system_metrics(period.scheme_id)
    for index, (subject, metric, value) in enumerate(values, start=1):
        if metric not in used or metric in unreported:
            problems.append(
                RowError(
                    index,
                    "metric",
                    _("“%(m)s” is not a reported metric of this scheme.") % {"m": metric},
                )
            )
        elif subject.kind != period.scheme.subject_kind:
            problems.append(
                RowError(index, "subject_id", _("This scheme scores another kind of subject."))
            )
        elif not Decimal(value).is_finite() or abs(Decimal(value)) > METRIC_VALUE_MAX:
            problems.append(
                RowError(
                    index,
                    "value",
                    _("The value must be a number between -%(max)s and %(max)s.")
                    % {"max": f"{METRIC_VALUE_MAX:,}"},
                )
            )
        elif (scaled := Decimal(value) * METRIC_SCALE) != scaled.to_integral_value():
            problems.append(RowError(index, "value", _("At most 4 decimal places.")))
    if problems:
        raise ImportFailed(problems)
    with transaction.atomic():
        metric_values_put(scheme=period.scheme, period_label=period.label, values=values)
        audit_record(
            actor=acting_user,
            action="ledger.metrics.reported",
            obj=period,
            region_code=period.scheme.region.code,
            after={"count": len(values), "metrics": sorted({m for _s, m, _v in values})},
        )
    return len(values)
