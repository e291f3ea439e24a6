import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import KaopingError
from kaoping.regions.models import Level, Region
from kaoping.schemes.labels import cadence_label, subject_kind_label
from kaoping.schemes.loader import load_scheme_file
from kaoping.schemes.services import scheme_load
from kaoping.schemes.spec import SchemeError


def default_region(code: str | None) -> Region:
    if code:
        region = Region.objects.filter(code=code.rstrip("0") if len(code) == 12 else code).first()
        if region is None:
            raise CommandError(_("there is no region with code %(code)s") % {"code": code})
        return region
    counties = list(Region.objects.filter(level=Level.COUNTY)[:2])
    if len(counties) != 1:
        raise CommandError(_("say which county the scheme is for: --region CODE"))
    return counties[0]


class Command(BaseCommand):
    help = "Check scheme files (`scheme check FILE… [--json]`) or load one as a new version (`scheme load FILE`)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["check", "load"])
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument(
            "--json", action="store_true", help="check: print one JSON object per file"
        )
        parser.add_argument(
            "--region", help="load: the county code the scheme scores (default: the only county)"
        )

    def handle(self, *args, action, files, json: bool, region, **options):
        if action == "check":
            return self.check_files(files, as_json=json)
        failed = False
        target = default_region(region)
        actor = system_actor()
        for name in files:
            try:
                text = Path(name).read_text(encoding="utf-8")
                with transaction.atomic(durable=True):
                    version, created = scheme_load(
                        text=text, filename=name, region=target, acting_user=actor
                    )
            except (SchemeError, KaopingError, OSError) as exc:
                failed = True
                self.stderr.write(str(exc.messages[0] if isinstance(exc, KaopingError) else exc))
                continue
            text = (
                _("%(file)s: %(code)s v%(n)s loaded")
                if created
                else _("%(file)s: %(code)s v%(n)s was already loaded")
            )
            self.stdout.write(
                text % {"file": name, "code": version.scheme.code, "n": version.number}
            )
        if failed:
            raise CommandError(_("some files were not loaded"))

    def check_files(self, files, *, as_json: bool):
        reports, failed = [], False
        for name in files:
            try:
                summary = load_scheme_file(name).summary()
            except (SchemeError, OSError) as exc:
                failed = True
                self.stderr.write(str(exc))
                reports.append({"file": name, "ok": False, "problems": str(exc).splitlines()})
                continue
            report = {
                "file": name,
                "ok": True,
                "code": summary["code"],
                "version": summary["version"],
                "subject_kind": summary["subject_kind"],
                "cadence": summary["cadence"],
                "indices": summary["indices"],
                "indicators": summary["indicators"],
                "items": summary["items"],
                "max_total": None if summary["max_total"] is None else str(summary["max_total"]),
                "warnings": summary["warnings"],
            }
            reports.append(report)
            if not as_json:
                self.stdout.write(
                    _(
                        "%(file)s: %(code)s v%(version)s %(name)s — %(kind)s, %(cadence)s; "
                        "%(indices)s indices, %(indicators)s indicators, %(items)s items; "
                        "maximum %(max)s"
                    )
                    % {
                        "file": name,
                        "code": report["code"],
                        "version": report["version"],
                        "name": summary["name"],
                        "kind": subject_kind_label(report["subject_kind"]),
                        "cadence": cadence_label(report["cadence"]),
                        "indices": report["indices"],
                        "indicators": report["indicators"],
                        "items": report["items"],
                        "max": report["max_total"] or "∞",
                    }
                )
                for warning in report["warnings"]:
                    self.stdout.write("  " + _("warning: %(text)s") % {"text": warning})
        if failed and not as_json:
            self.stderr.write(_("The scheme file format is described in docs/schemes.md."))
        if as_json:
            self.stdout.write(
                json.dumps(
                    reports if len(reports) > 1 else reports[0], ensure_ascii=False, indent=2
                )
            )
        if failed:
            sys.exit(1)
