"""The booking journey: requests, offers to mediators, session logs (docs/design.md lifecycle).

``rules`` holds the calendar and project checks, ``candidates`` who can take a
slot and why not, ``operations`` every state transition, ``queries`` the
scoped reads, ``notifications`` the emails each transition queues.
"""
