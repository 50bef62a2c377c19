"""Engine test fixtures (the tiny model folders live in tests/conftest.py, shared with app tests)."""
