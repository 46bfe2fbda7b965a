"""Mediators' side: their agenda, answering offers, logging sessions."""
