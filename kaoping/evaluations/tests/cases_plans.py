"""Permission cases of `evaluations.plans` (gathered by accounts' test_service_permissions)."""

from kaoping.accounts.tests.permission_case import Case
from kaoping.evaluations import plans
from kaoping.evaluations.testing import PLAN_YAML

# The world's plan under another code: a new plan of the county.
OTHER_PLAN = PLAN_YAML.replace("code: test-sanping", "code: case-plan")

CASES = {
    "kaoping.evaluations.plans.plan_load": Case(
        "alice",
        "oscar",  # a village secretary: evaluation.manage is the county's and the townships'
        lambda w, a: plans.plan_load(
            region=w.county.region("330304"), text=OTHER_PLAN, filename="p.yaml", acting_user=a
        ),
    ),
}
