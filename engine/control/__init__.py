"""The live control panel: an HTTP + WebSocket API and a small page to list, toggle and tune
effects, switch media, fire triggers, watch the preview and the stats while a run goes on.

Everything a request changes is applied on the loop's thread, between frames (see
``edgefx.control.commands``); the server thread only validates and publishes.
"""
