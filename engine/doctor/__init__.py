"""``edgefx doctor``: what this machine can run.

- ``report``: the rows ``edgefx doctor`` prints (models, encoders, protocols, cameras);
- ``hardware``: the hardware probes (CPU, board, accelerators) the report includes.
"""
