"""The operator's pager: escalated alerts POSTed, signed, to ``CONSULT119_ALERT_WEBHOOK_URL``."""
