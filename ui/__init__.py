"""Pinframe's Qt windows and widgets (PySide6 + qasync). Business logic lives in `app`."""
