"""Time zone names: Azure ML schedules take Windows names, users write IANA names.

``Europe/Paris`` and ``Romance Standard Time`` name the same zone; Azure ML's REST
API takes the Windows name. The mapping is the CLDR table that tzlocal ships.
"""

from __future__ import annotations

import difflib
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airflow_kedro_azureml.errors import ScheduleError


def windows_time_zone(name: str, where: str) -> str:
    """The Windows time zone name Azure ML takes for ``name`` (an IANA or a Windows name).

    ``where`` names the argument or field, for the error.
    """
    from tzlocal.windows_tz import tz_win, win_tz

    if name in win_tz:
        return name
    if name in tz_win:
        return tz_win[name]
    known = [*win_tz, *tz_win]
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ScheduleError(
        f"{where}: unknown time zone {name!r}{hint}; use an IANA name such as "
        "'Europe/Paris' or a Windows name such as 'Romance Standard Time'"
    )


def zone_info(name: str) -> ZoneInfo:
    """The ``ZoneInfo`` of an IANA or Windows time zone name (to compute firing times)."""
    from tzlocal.windows_tz import win_tz

    iana = win_tz.get(name, name)
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {name!r}") from None
