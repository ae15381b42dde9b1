"""Training beyond the model itself: augmentation, the schedule and the run folder."""
