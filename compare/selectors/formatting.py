"""How the comparison page shows a secret (a preview, never the whole) and a duration."""

# How much of a secret value the page shows: enough to recognise it, far too little to use.
PREVIEW_CHARS = 8


def preview(secret: str) -> str:
    """Return the first few characters of a secret value followed by an ellipsis."""
    return f"{secret[:PREVIEW_CHARS]}…" if secret else ""


def duration_text(seconds: int | float | None) -> str:
    """Return a duration for people: "14 days", "12 h", "4 min 59 s", "0 s"."""
    if seconds is None:
        return "–"
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "day" if days == 1 else "days"), (hours, "h"), (minutes, "min"), (secs, "s")]
    shown = [f"{value} {unit}" for value, unit in parts if value][:2]
    return " ".join(shown) or "0 s"
