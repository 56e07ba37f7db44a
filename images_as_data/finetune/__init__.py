"""Fine-tuning image classifiers (book Sections 4 and 7): tensor stores, training, metrics,
tables, figures and labelling of new images."""

# Version of the decoding of image files into tensor stores, a parameter of the store rules
# (finetune_store, predict_store): a new version rebuilds the stores of a results folder made
# by an older one. Stores of corpus tasks are rebuilt anyway when their working images change;
# stores of folder tasks and of the images to label decode the raw files themselves. 2: 16-bit,
# 32-bit and float greyscale scaled to 8 bits, transparency on white (common.pixels.to_rgb).
STORE_VERSION = 2
