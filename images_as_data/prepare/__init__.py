"""Stage "prepare" (rules/prepare.smk; book Sections 4.2, 5, 6.1): the raw-file inventory
(`inventory`), duplicate clusters (`dedupe`, with its Hamming-distance search in `hamming`),
the resized working images (`resize`) and the preprocessing Figures 4.2/4.3 (`figures`)."""

# The dedupe settings the analysis of each image depends on (the inventory makes it; a change
# of these reruns the inventory, a change of the other dedupe settings only dedupe).
DEDUPE_ANALYSIS_KEYS = ("hash", "hash_size", "mirror", "borders", "rotations", "crops", "analysis_size")

# Versions of the per-image methods, parameters of their rules: a new version reruns the rule
# (and what depends on it) for a results folder made by an older one, as a settings change
# does. ANALYSIS_VERSION: dedupe's analysis in the inventory (2: a turned copy's corner fill
# must fit one turn, and is hashed grey; 3: flat bars in the colour of the picture's edge are
# trimmed; 4: float and 32-bit greyscale scaled to 8 bits, not clipped, and RGB with a
# transparent colour composited on white, by common.pixels.to_rgb; how far colour spreads
# over the picture, in views.csv, for the root order); it also keys the
# inventory's cached rows. WORKING_IMAGES_VERSION: the working images (2: PIL's bilinear
# resize, the authors' Resize(256), instead of Lanczos; 3: as ANALYSIS_VERSION 4).
ANALYSIS_VERSION = 4
WORKING_IMAGES_VERSION = 3
