from django.urls import path

from . import decision_views, views

app_name = "outcomes"

urlpatterns = [
    path("", views.index, name="index"),
    path("badge/", views.badge, name="badge"),
    path("periods/<int:pk>/", views.period_overview, name="period"),
    path("periods/<int:pk>/payouts/", views.payout_sheet, name="payouts"),
    path("periods/<int:pk>/payouts.xlsx", views.payout_sheet_xlsx, name="payouts_xlsx"),
    path("periods/<int:pk>/payouts.pdf", views.payout_sheet_pdf, name="payouts_pdf"),
    path("interviews/<int:pk>/", views.interview_detail, name="interview"),
    path("pledges/<int:pk>/", views.pledge_detail, name="pledge"),
    path("pledges/<int:pk>/accept/", views.pledge_accept_view, name="pledge_accept"),
    path("pledge-items/<int:pk>/done/", views.pledge_item_done_view, name="pledge_item_done"),
    path("shares/<int:pk>/held/", views.share_held_view, name="share_held"),
    path("pairings/<int:pk>/", views.pairing_detail, name="pairing"),
    path("decisions/", decision_views.decision_index, name="decisions"),
    path("decisions/<int:pk>/", decision_views.decision_detail, name="decision"),
    path("key-villages/", views.key_village_list, name="key_villages"),
    path("key-villages/<int:pk>/", views.key_village_detail, name="key_village"),
]
