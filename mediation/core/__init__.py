"""Home pages per role, the language switcher."""
