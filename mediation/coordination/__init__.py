"""Coordinators' side: the Ambito's queue, offering to mediators, approving session logs."""
