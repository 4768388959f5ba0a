"""notification: composes every notice to petitioners from Chinese templates and delivers it once per channel."""
