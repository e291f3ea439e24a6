from django import forms
from django.contrib import admin

from .classes import member_class_problem
from .models import Cadre, GridPost, Household, PartyMember, Person, Subject, SubjectKind


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


class PartyMemberForm(forms.ModelForm):
    class Meta:
        model = PartyMember
        fields = ["person", "region", "branch", "member_class", "joined_on", "linked_households"]

    def clean_member_class(self) -> str:
        value = self.cleaned_data["member_class"]
        if problem := member_class_problem(value):
            raise forms.ValidationError(problem)
        return value


@admin.register(PartyMember)
class PartyMemberAdmin(admin.ModelAdmin):
    form = PartyMemberForm
    list_display = ["person", "branch", "member_class", "region"]
    list_select_related = ["person", "region"]
    list_filter = ["member_class"]
    raw_id_fields = ["person", "region"]
    filter_horizontal = ["linked_households"]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        # The class is the subject's track (people.classes.party_member_class_set does the same).
        Subject.objects.filter(kind=SubjectKind.PARTY_MEMBER, person_id=obj.person_id).update(
            track=obj.member_class
        )


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
