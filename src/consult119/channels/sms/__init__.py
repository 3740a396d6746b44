"""SMS through the operator's provider: a signed POST to ``CONSULT119_SMS_URL``."""
