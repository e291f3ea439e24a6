from django.contrib import admin

from .models import Cadre, GridPost, Household, PartyMember, Person


@admin.register(Household)
class HouseholdAdmin(admin.ModelAdmin):
    list_display = ["number", "region", "address"]
    search_fields = ["number", "address"]
    raw_id_fields = ["region", "head"]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    # The full ID number is never listed; it is only in the edit form for the admin who needs it.
    list_display = ["name", "masked_id_number", "masked_phone", "household", "region"]
    search_fields = ["name", "initials"]
    raw_id_fields = ["household", "region", "relatives"]


@admin.register(PartyMember)
class PartyMemberAdmin(admin.ModelAdmin):
    list_display = ["person", "branch", "member_class", "region"]
    list_select_related = ["person", "region"]
    list_filter = ["member_class"]
    raw_id_fields = ["person", "region"]
    filter_horizontal = ["linked_households"]


@admin.register(Cadre)
class CadreAdmin(admin.ModelAdmin):
    list_display = ["person", "post", "is_one_shoulder", "region"]
    list_select_related = ["person", "region"]
    list_filter = ["post", "is_one_shoulder"]
    raw_id_fields = ["person", "region"]


@admin.register(GridPost)
class GridPostAdmin(admin.ModelAdmin):
    list_display = ["region", "post", "person"]
    list_select_related = ["person", "region"]
    list_filter = ["post"]
    raw_id_fields = ["region", "person"]
