"""Checks of a scheme's `account:` event-order keys (docs/schemes.md §16), called by
`checks.check_scheme`: what the file's structure alone cannot say."""

from django.utils.translation import gettext as _

from .spec import CountItem, QuantityItem, SchemeSpec


def check_account(spec: SchemeSpec, kinds: dict, findings: list) -> None:
    """Append a finding for every contradiction among `account:`'s keys."""
    from .checks import Finding

    policy = spec.account
    if policy is None:
        return
    order = policy.deduct_from
    if not order:
        findings.append(
            Finding(
                ("account", "deduct_from"),
                _("deduct_from needs at least one of earned, base, debt"),
            )
        )
    for i, name in enumerate(order):
        if name in order[:i]:
            findings.append(
                Finding(
                    ("account", "deduct_from", i),
                    _("“%(name)s” is listed twice in deduct_from") % {"name": name},
                )
            )
        elif name == "debt" and i != len(order) - 1:
            findings.append(
                Finding(
                    ("account", "deduct_from", i),
                    _("debt takes whatever is left, so it must come last in deduct_from"),
                )
            )
        elif name == "base" and not policy.base:
            findings.append(
                Finding(
                    ("account", "deduct_from", i),
                    _("deduct_from names the base, but account.base is 0: write base: 100"),
                )
            )
    if policy.exclude_when_empty is not None and policy.exclude_when_empty not in order:
        findings.append(
            Finding(
                ("account", "exclude_when_empty"),
                _(
                    "exclude_when_empty: %(name)s never empties, deductions do not take from it"
                    " (add it to deduct_from)"
                )
                % {"name": policy.exclude_when_empty},
            )
        )
    if not policy.spendable:
        for key in ("exclude_when_empty", "spend_item"):
            if getattr(policy, key) is not None:
                findings.append(
                    Finding(
                        ("account", key),
                        _("%(key)s needs spendable: true (nothing is redeemed)") % {"key": key},
                    )
                )
    code = policy.spend_item
    if code is not None:
        item = kinds.get(code)
        if item is None:
            findings.append(
                Finding(
                    ("account", "spend_item"),
                    _("spend_item: “%(code)s” is not an item of this scheme") % {"code": code},
                )
            )
        elif not isinstance(item, CountItem | QuantityItem) or item.points >= 0:
            findings.append(
                Finding(
                    ("account", "spend_item"),
                    _(
                        "spend_item: “%(code)s” must be a count or quantity item with negative"
                        " points (e.g. points: -1): a redemption records the points spent as its"
                        " quantity"
                    )
                    % {"code": code},
                )
            )
        elif getattr(item, "linked", None) is not None or getattr(item, "from_metric", None):
            findings.append(
                Finding(
                    ("account", "spend_item"),
                    _("spend_item: “%(code)s” is recorded by the system from other data")
                    % {"code": code},
                )
            )
