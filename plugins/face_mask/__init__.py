"""AR face masks and accessories drawn over the ``faces`` landmarks."""
