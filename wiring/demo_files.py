"""Files the demo leaves behind for a person to look at: the health report's trend chart."""

from __future__ import annotations

import tempfile
from pathlib import Path

from handlers.render.outbox import HEALTH_CHART_FILENAME
from sandbox import UploadedFile

CHART_NAME = "checkin-coach-demo-health-chart.png"


def save_health_chart(files: list[UploadedFile], directory: Path | None = None) -> tuple[Path, str] | None:
    """Write the last uploaded health chart outside the demo's temporary workspace (which is
    removed at the end); returns its path and alt text, or None if none was uploaded."""
    charts = [f for f in files if f.filename == HEALTH_CHART_FILENAME and f.content]
    if not charts:
        return None
    path = (directory or Path(tempfile.gettempdir())) / CHART_NAME
    path.write_bytes(charts[-1].content or b"")
    return path, charts[-1].alt_txt or ""
