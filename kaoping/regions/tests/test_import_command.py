import pytest
from django.core.management import CommandError, call_command

from kaoping.regions.models import Region

pytestmark = pytest.mark.django_db


def test_command_imports_and_reports_bad_rows(tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_text("代码,名称\n330304000000,瓯海区\n330304001000,景山街道\n", encoding="utf-8")
    call_command("import_regions", str(good))
    assert Region.objects.count() == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("代码,名称\n330304002201,孤村\n", encoding="utf-8")
    with pytest.raises(CommandError, match="1 problems"):
        call_command("import_regions", str(bad))
    assert "bad.csv:2:" in capsys.readouterr().err
    assert Region.objects.count() == 2
