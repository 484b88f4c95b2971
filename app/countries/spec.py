"""The countries list, declared once: its filter and sorts."""

from app import models as m
from app.reads.filters import flag
from app.reads.spec import ReadSpec

C = m.Country

COUNTRIES = ReadSpec(
    name="countries",
    model=C,
    columns={"code": C.code, "name": C.name},
    key="code",
    default_sort="code",
    filters=(
        flag("historical", "Only historical (true) or current (false) states.", C.historical),
    ),
)
