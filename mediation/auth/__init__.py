"""Accounts: logging in and out, invitations and password resets."""
