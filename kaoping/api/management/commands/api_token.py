from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from kaoping.api.models import ApiToken


class Command(BaseCommand):
    help = "Issue an API token: `api_token USERNAME NAME`. The key is printed once and not stored."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("name", help="what the token is for, e.g. 政法委数据对接")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}")
        _token, key = ApiToken.issue(user=user, name=name)
        self.stdout.write(key)
