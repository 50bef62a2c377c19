"""Keyframe and interpolation backends: each turns images, prompts and frame indices into frames."""
