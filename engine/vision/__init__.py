"""Pure image and signal functions (NumPy/OpenCV) shared by plugins; shapes and dtypes in each docstring."""
