# The public names of `contracts`, declared once: type checkers read them
# here, and `__init__.py` loads each on first use from the module named here
# (`contracts.lazy_exports`). A name added here is exported.

from .errors import PlanasonixError as PlanasonixError
from .openapi import openapi_document as openapi_document
from .profile import DEFAULT_PROFILE as DEFAULT_PROFILE
from .profile import Profile as Profile
from .profile import ProfileError as ProfileError
from .profile import load_profile as load_profile
from .registry import CREDENTIAL_TYPES as CREDENTIAL_TYPES
from .registry import FieldError as FieldError
from .registry import SchemaViolation as SchemaViolation
from .registry import check_response as check_response
from .registry import config_fields as config_fields
from .registry import merge_config as merge_config
from .registry import public_only as public_only
from .registry import public_paths as public_paths
from .registry import redact as redact
from .registry import required_fields as required_fields
from .registry import secret_paths as secret_paths
from .registry import split_secrets as split_secrets
from .registry import validate_config as validate_config
from .registry import validate_create as validate_create
from .registry import validate_response as validate_response
from .registry import validate_update as validate_update

__all__: list[str]
