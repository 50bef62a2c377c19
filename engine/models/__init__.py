"""Model registry, folder validation and resumable downloads from the Hugging Face Hub.

- :mod:`engine.models.catalog`: the built-in list of known Hub models (one table).
- :mod:`engine.models.registry`: the known models plus the user's local folders, and what the cache holds.
- :mod:`engine.models.validate`: checks a diffusers folder before anything loads it.
- :mod:`engine.models.download`: fetches a known model into the Hugging Face cache, resumably.
"""
