"""Checks of what a scheme says per variant (track, class: 预备党员…) outside `variants:` itself
(docs/schemes.md §8, §10, §17): grades and consequences limited to some variants, and the
decisions a grade sets off. Called by `checks.check_scheme`."""

from django.utils.translation import gettext as _

from .spec import SchemeSpec


def check_classes(spec: SchemeSpec, findings: list) -> None:
    """Append a finding for every variant, grade, option or cadence these keys name wrongly."""
    from .checks import Finding, _cadence, _cadences, _known

    labels = set(spec.variants)

    def known_variants(variants, path: tuple) -> None:
        if variants is not None and not variants:
            findings.append(Finding(path, _("list at least one variant, or leave variants out")))
        for i, label in enumerate(variants or ()):
            if label not in labels:
                known = _known(labels, _("none defined under variants"))
                message = _("there is no variant “%(label)s” (variants: %(known)s)")
                findings.append(Finding((*path, i), message % {"label": label, "known": known}))

    for i, grade in enumerate(spec.grades):
        known_variants(grade.variants, ("grades", i, "variants"))
    rules = spec.consequences
    if rules is None:
        return
    for i, rule in enumerate(rules.by_grade):
        known_variants(rule.variants, ("consequences", "by_grade", i, "variants"))
    grades = {grade.code for grade in spec.grades}
    available = {spec.cadence} | {r.cadence for r in spec.rollups}
    seen: set[str] = set()
    for i, rule in enumerate(rules.decisions):
        path = ("consequences", "decisions", i)
        if rule.code in seen:
            message = _("the decision code “%(code)s” is used twice")
            findings.append(Finding((*path, "code"), message % {"code": rule.code}))
        seen.add(rule.code)
        for j, code in enumerate(rule.grades):
            if code not in grades:
                findings.append(
                    Finding(
                        (*path, "grades", j),
                        _("“%(code)s” is not a grade code (%(known)s)")
                        % {"code": code, "known": _known(grades)},
                    )
                )
        options: set[str] = set()
        for j, option in enumerate(rule.options):
            if option.code in options:
                message = _("the option code “%(code)s” is used twice")
                findings.append(
                    Finding((*path, "options", j, "code"), message % {"code": option.code})
                )
            options.add(option.code)
        known_variants(rule.variants, (*path, "variants"))
        for j, cadence in enumerate(rule.cadences or ()):
            if cadence not in available:
                findings.append(
                    Finding(
                        (*path, "cadences", j),
                        _("the scheme has no %(cadence)s results (it has %(has)s)")
                        % {"cadence": _cadence(cadence), "has": _cadences(available)},
                    )
                )
