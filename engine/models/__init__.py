"""Model registry, folder validation and resumable downloads from the Hugging Face Hub.

- :mod:`engine.models.registry`: the built-in list of known models plus the user's local folders.
- :mod:`engine.models.validate`: checks a diffusers folder before anything loads it.
- :mod:`engine.models.download`: fetches a known model into the Hugging Face cache, resumably.
"""
