"""Stage "prepare" (rules/prepare.smk; book Sections 4.2, 5, 6.1): the raw-file inventory
(`inventory`), duplicate clusters (`dedupe`, with its Hamming-distance search in `hamming`),
the resized working images (`resize`) and the preprocessing Figures 4.2/4.3 (`figures`)."""

# The dedupe settings the analysis of each image depends on (the inventory makes it; a change
# of these reruns the inventory, a change of the other dedupe settings only dedupe).
DEDUPE_ANALYSIS_KEYS = ("hash", "hash_size", "mirror", "borders", "rotations", "crops", "analysis_size")
