"""The program's layers, one module each, in the order ``__main__.py`` calls them.

``context`` (what every layer shares: environment, team, labels, tags, secrets, the system node
selector, the runtime class) and ``target`` (the cluster: ``eks`` or ``existing``, the only
modules that ask which) come first; then ``namespaces``, ``registry``, ``observability``,
``mesh``, ``platform``, ``storage``, ``workloads``, ``batch`` and ``exports``. Each layer module
keeps its decisions in pure planning functions (settings in, plain values or ``*Args`` out),
testable without the mock engine, and one function that creates the layer's components.
"""
