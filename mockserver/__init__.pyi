# The public names of `mockserver`, declared once: type checkers read them
# here, and `__init__.py` loads each on first use from the module named here
# (`contracts.lazy_exports`). A name added here is exported; nothing else to edit.

from contracts.errors import PlanasonixError as PlanasonixError

from .app import create_app as create_app
from .assembly import BuiltState as BuiltState
from .assembly import build_state as build_state
from .auth import DEV_KEY as DEV_KEY
from .auth import DEV_WORKSPACE as DEV_WORKSPACE
from .auth import Keyring as Keyring
from .auth import Principal as Principal
from .clock import ManualClock as ManualClock
from .ids import IdGenerator as IdGenerator
from .journal import Journal as Journal
from .journal import JournalRecord as JournalRecord
from .state import FakeConfig as FakeConfig
from .state import FakeState as FakeState
from .state import get_state as get_state
from .store import Credential as Credential
from .store import CredentialStore as CredentialStore
from .store import Page as Page
from .store import SecretBox as SecretBox

__version__: str
__all__: list[str]
