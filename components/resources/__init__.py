"""Helpers that create resources as children of a component (IRSA roles, pinned Helm releases).

Not components themselves: each is called from inside a component's constructor with
``parent=self``. They sit above the pure builders (``specs/``) and below the components.
"""
