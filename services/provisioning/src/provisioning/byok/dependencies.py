from typing import Annotated

from fastapi import Depends

from provisioning.byok.service import ByokService
from service_kit import app_state

Byok = Annotated[ByokService, Depends(app_state("byok"))]
