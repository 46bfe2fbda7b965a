"""The link of a meeting in video mode: the video-meeting service's address
(``VIDEO_MEETING_BASE_URL``, e.g. a self-hosted Jitsi Meet) and a room name per
appointment.

The room name is derived from the application's secret and the appointment's id (an
HMAC): it is unguessable from the outside, the same every time the appointment is shown
or mailed, and nothing needs storing. A reassignment or a moved week is a new appointment,
so a new room, and the invitation that cancels the old appointment takes its link with
it. Changing ``SECRET_KEY`` changes every room: the invitations already sent then point
to rooms nobody else will open. When the link is shown is the policy's
(``policy.video_link_shown``).
"""

import base64
import hashlib
import hmac

from flask import current_app

from ..models import Assignment
from . import policy


def room_name(assignment: Assignment) -> str:
    """"Mediazione" and 24 letters and digits: 120 bits of the HMAC of the appointment."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"video-room:{assignment.id}".encode(), hashlib.sha256).digest()
    return "Mediazione" + base64.b32encode(digest[:15]).decode().lower()


def video_link(assignment: Assignment | None) -> str | None:
    """The address of the appointment's video meeting, or None (not a video meeting, no
    appointment standing, or no service configured)."""
    base = (current_app.config.get("VIDEO_MEETING_BASE_URL") or "").rstrip("/")
    if not base or not policy.video_link_shown(assignment):
        return None
    return f"{base}/{room_name(assignment)}"


def call_number(assignment: Assignment | None) -> str | None:
    """The number to call for the appointment's meeting by phone, or None (not a meeting
    by phone, or no appointment standing)."""
    if not policy.call_number_shown(assignment):
        return None
    return assignment.request.call_number
