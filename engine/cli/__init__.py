"""The ``edgefx`` command line.

- ``main``: the argument parser and the ``run``/``plugins``/``models``/``bench``/``doctor`` commands;
- ``analyze``: ``edgefx analyze``, results as JSON instead of video;
- ``contact_sheet``: the ``--contact-sheet`` PNG of sampled frames;
- ``scaffold`` and ``templates``: ``edgefx plugins new``.
"""
