"""Inputs and outputs through PyAV."""
