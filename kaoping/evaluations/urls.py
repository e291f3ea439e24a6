"""The evaluations' pages. Each area keeps its routes beside its views (urls_<area>.py); the
public pages a rater or a member opens from a QR code without an account are `/v/<code>/`
(a ballot) and `/m/<code>/` (signing in to a meeting)."""

from .urls_ballots import urlpatterns as ballots
from .urls_meetings import urlpatterns as meetings
from .urls_members import urlpatterns as members
from .urls_panel import urlpatterns as panel
from .urls_plans import urlpatterns as plans
from .urls_rounds import urlpatterns as rounds

app_name = "evaluations"

urlpatterns = [*plans, *rounds, *ballots, *panel, *meetings, *members]
