"""Fine-tuning image classifiers (book Sections 4 and 7): tensor stores, training, metrics,
tables, figures and labelling of new images."""
