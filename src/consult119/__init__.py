"""consult119: the case system behind a 24/7 emergency medical consultation service for Koreans abroad."""

__version__ = "0.1.0"
