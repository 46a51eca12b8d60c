# The public names of `mockserver.testing`, declared once: type checkers read
# them here, and `__init__.py` loads each on first use from the module named
# here (`contracts.lazy_exports`). A name added here is exported.

from .fake import IN_PROCESS_URL as IN_PROCESS_URL
from .fake import PUBLIC_HOST as PUBLIC_HOST
from .fake import PUBLIC_URL as PUBLIC_URL
from .fake import PlanasonixFake as PlanasonixFake
from .fake import SeedSource as SeedSource
from .faults import FaultRuleError as FaultRuleError
from .faults import Faults as Faults
from .guards import NotInterceptedError as NotInterceptedError
from .intercept import InterceptedFake as InterceptedFake
from .intercept import host_pattern as host_pattern
from .live import LiveFake as LiveFake
from .live import LiveServer as LiveServer
from .observe import ConsumerContract as ConsumerContract
from .observe import Coverage as Coverage
from .secret_lookup import SecretFieldError as SecretFieldError
from .transports import WSGIAdapter as WSGIAdapter
from .transports import WSGIResult as WSGIResult
from .transports import call_wsgi as call_wsgi

__all__: list[str]
