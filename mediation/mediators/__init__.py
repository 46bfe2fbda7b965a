"""Mediators' availability, absences and profiles; their week and the Ambito's calendar."""
