"""What the audit log shows for its codes: action names, the keys and values of a change.

An audit row stores its action as a dotted code (`store.redemption.requested`) and its change
as two JSON objects. This registry is the one place that turns them into Chinese for people; a
code it does not know is still shown readably (the app's name and the verb), never as a Python
dict.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

ACTION_LABELS = {
    "accounts.login.created": _("Login created"),
    "accounts.login.disabled": _("Login disabled"),
    "accounts.login.enabled": _("Login enabled"),
    "accounts.login.password_reset": _("Login password reset"),
    "accounts.logins.imported": _("Logins imported"),
    "accounts.password.changed": _("Password changed"),
    "outcomes.consequences.voided": _("Consequences of a close voided on reopening"),
    "periods.period.voided": _("Results of a period voided"),
    "store.window.rotated": _("Redemption windows rotated"),
    "demo.built": _("Demo county built"),
    "election.round.opened": _("Election round opened"),
    "election.round.config_loaded": _("Election round configuration loaded"),
    "election.round.closed": _("Election round closed"),
    "election.stage.recorded": _("Village election stage recorded"),
    "election.stage.undone": _("Village election stage withdrawn"),
    "election.file.updated": _("Village file updated"),
    "election.key_village.set": _("Key village set"),
    "election.team_member.added": _("Key village team member added"),
    "election.team_member.removed": _("Key village team member removed"),
    "election.help_visit.recorded": _("Paired department's visit recorded"),
    "election.issue.added": _("Village issue added"),
    "election.issue.cleared": _("Village issue cleared"),
    "election.talk.recorded": _("Pre-election talk recorded"),
    "election.talk.removed": _("Pre-election talk removed"),
    "election.result.recorded": _("Village election result recorded"),
    "election.candidate.added": _("Prospective candidate added"),
    "election.sheet.updated": _("Person's sheet updated"),
    "election.sheet.viewed": _("Person's sheet viewed"),
    "election.sheets.exported": _("Persons' sheets exported"),
    "election.findings.submitted": _("Department findings submitted"),
    "election.finding.withdrawn": _("Department finding withdrawn"),
    "reports.report.created": _("Report asked for"),
    "reports.report.built": _("Report built"),
    "reports.report.retried": _("Report queued again"),
    "reports.schedule.saved": _("Report schedule saved"),
    "reports.schedule.deleted": _("Report schedule deleted"),
    "inbox.messages.delivered": _("Messages delivered"),
    "ledger.entry.recorded": _("Entry recorded"),
    "ledger.entries.recorded": _("Entries recorded"),
    "ledger.entry.approved": _("Entry approved"),
    "ledger.entry.rejected": _("Entry rejected"),
    "ledger.entry.reversed": _("Entry reversed"),
    "ledger.entry.evidence_attached": _("Evidence attached to an entry"),
    "ledger.import.committed": _("Excel import committed"),
    "ledger.metrics.reported": _("Metric values reported"),
    "problems.problem.raised": _("Problem raised"),
    "problems.problem.assigned": _("Problem handed on"),
    "problems.problem.escalated": _("Overdue problem escalated"),
    "problems.problem.overdue_reported": _("Overdue problem reported to the county"),
    "problems.problem.progress": _("Problem progress noted"),
    "problems.problem.resolved": _("Problem resolved"),
    "problems.problem.accepted": _("Problem confirmed by the household"),
    "problems.problem.rejected": _("Problem sent back by the household"),
    "problems.problem.closed_unconfirmed": _("Problem closed without the household's answer"),
    "outcomes.consequences.applied": _("Consequences of a close applied"),
    "outcomes.exchange.recorded": _("Pairing exchange recorded"),
    "outcomes.interview.recorded": _("Interview recorded"),
    "outcomes.key_village.designated": _("Key village designated"),
    "outcomes.key_village.left": _("Key village left the list"),
    "outcomes.key_village.updated": _("Key village updated"),
    "outcomes.pledge.accepted": _("Pledge accepted"),
    "outcomes.pledge_item.added": _("Pledge item added"),
    "outcomes.pledge_item.done": _("Pledge item done"),
    "outcomes.share.held": _("Experience sharing held"),
    "grid.visit.recorded": _("Visit recorded"),
    "grid.coverage.pushed": _("Visit coverage pushed to a close"),
    "grid.coverage_rule.changed": _("Visiting rule changed"),
    "people.person.updated": _("Person updated"),
    "people.book.changed": _("Household book changed"),
    "people.households.imported": _("Households and members imported"),
    "people.tag.created": _("Household tag added"),
    "people.tag.updated": _("Household tag changed"),
    "people.household_post.saved": _("三长 post saved"),
    "people.natural_village.saved": _("Natural village saved"),
    "people.household.natural_village_set": _("Household's natural village set"),
    "periods.membership.resolved": _("Listing resolved"),
    "periods.period.closed": _("Period closed"),
    "periods.period.opened": _("Period opened"),
    "periods.period.post": _("Period posted publicly"),
    "periods.period.finalise": _("Period finalised"),
    "periods.period.reopen": _("Period reopened"),
    "periods.period.rebound": _("Period bound to another scheme version"),
    "publishing.objection.filed": _("Objection filed"),
    "publishing.objection.upheld": _("Objection upheld"),
    "publishing.objection.dismissed": _("Objection dismissed"),
    "regions.imported": _("Regions imported"),
    "regions.region.renamed": _("Region renamed"),
    "schemes.version.loaded": _("Scheme version loaded"),
    "store.accounts.credited": _("Points credited to accounts"),
    "store.accounts.reconciled": _("Points accounts reconciled"),
    "store.accounts.clear": _("Yearly clearing of points"),
    "store.accounts.expire": _("Points expired"),
    "store.goods.created": _("Goods added"),
    "store.goods.changed": _("Goods changed"),
    "store.redemption.requested": _("Redemption requested"),
    "store.redemption.completed": _("Redemption handed over"),
    "store.redemption.cancelled": _("Redemption cancelled"),
    "store.stock.adjusted": _("Stock corrected"),
    "store.stock.purchase": _("Goods purchased into stock"),
    "store.stock.donation": _("Donated goods into stock"),
    "store.stock.adjust": _("Stock corrected"),
    "store.store.created": _("Points store created"),
    "store.store.changed": _("Points store changed"),
    "store.window.added": _("Redemption window added"),
    "store.window.quarterly": _("Quarterly redemption windows added"),
    "evaluation.plan.loaded": _("Evaluation plan loaded"),
    "evaluation.round.opened": _("Evaluation round opened"),
    "evaluation.round.closed": _("Evaluation round closed"),
    "evaluation.ballot.cast": _("Evaluation ballot cast with a login"),
    "evaluation.paper.entered": _("Paper ballots typed in"),
    "evaluation.ballots.viewed": _("Individual ballots viewed"),
    "evaluation.meeting.opened": _("Meeting opened for sign-in"),
    "evaluation.meeting.signed_in": _("Member signed in to a meeting"),
    "evaluation.meeting.signed_in_for": _("Member signed in to a meeting by the secretary"),
    "evaluation.meeting.closed": _("Meeting sign-in closed, attendance counted"),
    "evaluation.service.recorded": _("Service to a linked household recorded"),
    "evaluation.link_coverage.pushed": _("Member household coverage pushed"),
    "evaluation.pledge.added": _("Member's pledge recorded"),
    "evaluation.pledge.kept": _("Member's pledge kept"),
    "inspection.draw.made": _("Inspection draw made"),
    "inspection.results.recorded": _("Inspection results recorded"),
    "inspection.figures.pushed": _("Inspection figures pushed before a close"),
}

# For codes without a label: the app and the verb, so that a new action reads as Chinese.
APP_LABELS = {
    "accounts": _("Accounts"),
    "admin": _("System configuration"),
    "demo": _("Demo"),
    "election": _("Village elections"),
    "evaluation": _("Evaluations"),
    "grid": _("Grid work"),
    "inspection": _("Inspections"),
    "ledger": _("Scoring records"),
    "outcomes": _("Consequences"),
    "people": _("People"),
    "periods": _("Periods"),
    "publishing": _("Public posting"),
    "regions": _("Regions"),
    "reports": _("Reports"),
    "schemes": _("Schemes"),
    "store": _("Points store"),
}
VERB_LABELS = {
    "added": _("added"),
    "approved": _("approved"),
    "cancelled": _("cancelled"),
    "changed": _("changed"),
    "closed": _("closed"),
    "created": _("created"),
    "deleted": _("deleted"),
    "enabled": _("enabled"),
    "disabled": _("disabled"),
    "imported": _("imported"),
    "recorded": _("recorded"),
    "rejected": _("rejected"),
    "updated": _("changed"),
}

FIELD_LABELS = {
    # problems.problem.*
    "title": pgettext_lazy("problem", "title"),
    "rating": _("satisfaction"),
    "resolution": _("resolution"),
    "comment": _("household's comment"),
    "voided": _("cancelled"),
    "kept_acted_on": _("kept (already acted on)"),
    "lists": _("lists"),
    "seed": _("random seed"),
    "households": _("households"),
    "unit": _("unit"),
    "price": _("price in points"),
    "photo": _("photo"),
    "limit_per_household": _("limit per household"),
    "position": _("position"),
    "phone": _("mobile number"),
    "role": _("role"),
    "scope": _("scope"),
    "username": _("username"),
    "is_active": _("login enabled"),
    "account": _("account"),
    "accounts": _("accounts"),
    "active": _("active"),
    "added": _("added"),
    "address": _("address"),
    "awaiting_evidence": _("awaiting evidence"),
    "created": pgettext_lazy("audit", "created"),
    "cutoff": _("cut-off day"),
    "date": _("date"),
    "decision": _("decision"),
    "donor": _("donor"),
    "file": _("file"),
    "flagged": _("flagged"),
    "flags": _("flags"),
    "goods": _("goods"),
    "honours": _("honours"),
    "interviews": _("interviews"),
    "item": _("item"),
    "key_villages": _("key villages"),
    "list": _("list"),
    "nodes": _("result rows"),
    "pairings": _("pairings"),
    "payouts": _("bonus payouts"),
    "pay_by_post": _("pay by post"),
    "periods": _("periods"),
    "pledges": _("pledges"),
    "recorded": pgettext_lazy("audit", "recorded"),
    "renamed": pgettext_lazy("audit", "renamed"),
    "reversal": _("reversal"),
    "reversed": pgettext_lazy("audit", "reversed"),
    "rows": _("rows"),
    "scheme": _("scheme"),
    "shares": _("experience sharing"),
    "source": _("source"),
    "unchanged": _("unchanged"),
    "unit_cost": _("unit cost"),
    "code": _("code"),
    "count": _("count"),
    "days": _("days"),
    "entries": _("entries"),
    "evidence": _("evidence"),
    "from": pgettext_lazy("audit", "from"),
    "held_on": _("held on"),
    "hours": _("opening hours"),
    "ids": _("ids"),
    "label": _("period"),
    "left_on": _("left on"),
    "level": _("level"),
    "metrics": _("metrics"),
    "minutes": _("minutes"),
    "name": _("name"),
    "note": _("note"),
    # grid.visit.recorded
    "household": _("household"),
    "kind": _("kind"),
    "visited_on": _("visited on"),
    "met": _("members met"),
    "changes": _("Changes"),
    "photos": _("Photos"),
    "post": _("post"),
    # grid.coverage_rule.changed, grid.coverage.pushed
    # election.*
    "stage": _("stage"),
    "reached_on": _("reached on"),
    "paired_department": _("paired department"),
    "is_key": _("key village"),
    "done_on": _("cleared on"),
    "person_name": _("talked with"),
    "representatives_total": _("villager representatives"),
    "key_persons_total": _("key persons"),
    "party_members_total": _("party members"),
    "help_plan": _("help plan"),
    "elected_on": _("election day"),
    "first_time_success": _("elected at the first vote"),
    "intent_realised": _("organisation's intention realised"),
    "one_shoulder_done": _("一肩挑 achieved"),
    "one_shoulder_intended": _("一肩挑 intended"),
    "intended": _("organisation's intended candidate"),
    "intended_post": _("intended post"),
    "is_candidate": _("prospective candidate"),
    "full_id_numbers": _("full ID numbers"),
    "department": _("department"),
    "category": _("talk category"),
    "owner": _("owner"),
    "deadline": _("deadline"),
    "files": _("village files"),
    "sheets": _("persons' sheets"),
    "updated": pgettext_lazy("audit", "updated"),
    "person": _("person"),
    "condition": _("condition"),
    "hit": _("applies"),
    "summary": _("finding"),
    "found_on": _("date of the finding"),
    "document": _("document reference"),
    "cycle": _("visit cycle"),
    "overdue_days": _("overdue after (days)"),
    "subjects": _("subjects"),
    "period": _("period"),
    "points": _("points"),
    "quantity": _("quantity"),
    "reason": _("reason"),
    "results": _("results"),
    "sha256": _("fingerprint"),
    "status": _("status"),
    "subject": _("subject"),
    "to": pgettext_lazy("audit", "to"),
    "topic": _("topic"),
    "version": _("version"),
    "year": _("year"),
}
VALUE_LABELS = {
    True: _("yes"),
    False: _("no"),
    "in_person": _("home visit"),
    "phone": _("phone call"),
    "accepted": _("accepted"),
    "approved": _("approved"),
    "awaiting_evidence": _("awaiting evidence"),
    "cancelled": _("cancelled"),
    "closed": _("closed"),
    "completed": _("handed over"),
    "dismissed": _("dismissed"),
    "done": _("done"),
    "final": _("final"),
    "held": _("held"),
    "open": _("open"),
    "pending": _("pending"),
    "posted": _("posted"),
    "rejected": _("rejected"),
    "requested": _("requested"),
    "submitted": _("submitted"),
    "upheld": _("upheld"),
}

_MAX_LIST = 10
_MAX_TEXT = 120


def action_label(code: str) -> str:
    """The Chinese name of an audit action; an unknown one as its app and verb."""
    if code in ACTION_LABELS:
        return str(ACTION_LABELS[code])
    parts = code.split(".")
    app = APP_LABELS.get(parts[0])
    verb = VERB_LABELS.get(parts[-1], _("other action"))
    if app is None:
        return str(_("Other action"))
    return f"{app}：{verb}"


def action_choices() -> list[tuple[str, str]]:
    """(prefix, label) for the audit log's action filter: each app, then each known action."""
    apps = [(f"{code}.", str(label)) for code, label in APP_LABELS.items()]
    actions = sorted(((code, str(label)) for code, label in ACTION_LABELS.items()))
    return apps + actions


@dataclass(frozen=True)
class ChangeLine:
    """One key of a change: its label, the value before (if any) and after."""

    label: str
    before: str
    after: str


_DECIMAL = re.compile(r"^-?\d+\.\d+$")
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def _value_text(value, names: Mapping = MappingProxyType({})) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(VALUE_LABELS[value])
    if isinstance(value, str):
        label = names.get(value, VALUE_LABELS.get(value))
        if label is not None:
            return str(label)
        if _DECIMAL.match(value):  # points and amounts are stored with their scale: -3.0000
            return value.rstrip("0").rstrip(".")
        if _DIGEST.match(value):  # a file's SHA-256: its first characters tell files apart
            return value[:8] + "…"
        return value if len(value) <= _MAX_TEXT else value[:_MAX_TEXT] + "…"
    if isinstance(value, list | tuple):
        shown = "、".join(_value_text(v, names) for v in value[:_MAX_LIST])
        more = len(value) - _MAX_LIST
        return shown + (str(_("… and %(n)d more")) % {"n": more} if more > 0 else "")
    if isinstance(value, Mapping):
        return "；".join(f"{_key_text(k)}：{_value_text(v, names)}" for k, v in value.items())
    return str(value)


def _key_text(key) -> str:
    label = FIELD_LABELS.get(key)
    return str(label) if label is not None else str(key).replace("_", " ")


def change_lines(before, after, names: Mapping = MappingProxyType({})) -> list[ChangeLine]:
    """A change as lines people read: one per key, keys in the order they were written.

    `names` turns the codes of the apps' choices (roles, sources) into their labels; core
    imports no app, so the page that shows the log passes them in."""
    before = before if isinstance(before, Mapping) else ({} if before is None else {"": before})
    after = after if isinstance(after, Mapping) else ({} if after is None else {"": after})
    lines = []
    for key in dict.fromkeys([*before, *after]):
        lines.append(
            ChangeLine(
                label=_key_text(key) if key else "",
                before=_value_text(before[key], names) if key in before else "",
                after=_value_text(after[key], names) if key in after else "",
            )
        )
    return lines
