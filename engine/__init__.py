"""Pinframe's compute engine: keyframe and interpolation backends on a worker thread. No Qt."""
